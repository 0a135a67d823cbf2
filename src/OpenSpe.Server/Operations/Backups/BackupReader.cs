using System.Text.Json;
using OpenSpe.Core.Audit;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>What a restore wrote.</summary>
/// <param name="Manifest">The backup's manifest.</param>
/// <param name="Restored">Pieces written, each checked against its SHA-256 sums.</param>
/// <param name="Bytes">Plaintext bytes written.</param>
/// <param name="Shredded">Projects whose key and objects were left out because the merged shred ledger names them.</param>
/// <param name="SkippedPieces">Pieces left out for those projects.</param>
internal sealed record BackupRestore(BackupManifest Manifest, int Restored, long Bytes, IReadOnlyList<ShredLedgerEntry> Shredded, int SkippedPieces);

/// <summary>
/// Restores a backup into a new data directory: decrypts every piece with the backup secret key, checks the SHA-256 of
/// its ciphertext and plaintext against the signed manifest, and leaves out the key and objects of every crypto-shredded
/// project (the backup's own ledger merged with any newer ledgers given).
/// </summary>
internal static class BackupReader
{
    private const long MaxManifestBytes = 256L * 1024 * 1024;

    /// <summary>Restores <paramref name="backup"/> into <paramref name="target"/> (absent or empty).</summary>
    /// <param name="backup">The backup directory.</param>
    /// <param name="key">The backup secret key.</param>
    /// <param name="target">The new data directory.</param>
    /// <param name="postgres">For a PostgreSQL backup: the empty database to load it into.</param>
    /// <param name="ledgers">Shred ledgers newer than the backup (e.g. the copy on the backup volume).</param>
    /// <param name="auditPublicKeyPem">The audit public key kept apart from the server, to check the manifest signature against; null uses the restored one.</param>
    /// <param name="cancellationToken">Cancels the restore.</param>
    public static async Task<BackupRestore> RestoreAsync(string backup, Crypt4ghPrivateKey key, string target, string? postgres, IReadOnlyList<string> ledgers, string? auditPublicKeyPem,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(ledgers);
        var root = Path.GetFullPath(backup);
        var (manifest, signed, manifestBytes) = await ReadManifestAsync(root, key, cancellationToken).ConfigureAwait(false);
        if (manifest.Database == "postgresql" && string.IsNullOrWhiteSpace(postgres))
        {
            throw new BackupException("the backup holds a PostgreSQL dump: give the empty database to restore it into (--database \"Host=...\")");
        }

        var full = Path.GetFullPath(target);
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
        {
            throw new BackupException($"{full} is not empty; a restore goes into a new or empty directory, never over a data directory");
        }

        var directory = DataDirectory.Open(full);
        var shredded = ShredLedger.Merge(manifest.Shredded.Concat(ledgers.SelectMany(ShredLedger.Read)));
        var shreddedIds = shredded.Select(e => e.ProjectId).ToHashSet(StringComparer.Ordinal);
        var restored = 0;
        var skipped = 0;
        long bytes = 0;
        foreach (var piece in manifest.Pieces)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Note: a crypto-shredded project's key and objects never come back, because the ledger is newer than the
            // backup: restoring them would undo an erasure the HDAB was given a certificate for.
            if (BelongsToShredded(piece, shreddedIds))
            {
                skipped++;
                continue;
            }

            var destination = piece.Kind == BackupPieceKind.PostgresDump ? Path.Combine(full, ".restore-" + piece.Sequence) : Destination(full, piece);
            await RestorePieceAsync(root, piece, key, destination, cancellationToken).ConfigureAwait(false);
            if (piece.Kind == BackupPieceKind.PostgresDump)
            {
                try
                {
                    await DatabaseSnapshot.RestorePostgresAsync(destination, postgres!, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    File.Delete(destination);
                }
            }

            restored++;
            bytes += piece.Size;
        }

        // The merged ledger goes into the new data directory, so every later backup carries it forward.
        var ledgerPath = directory.File(ShredLedger.FileName);
        File.Delete(ledgerPath);
        foreach (var entry in shredded)
        {
            ShredLedger.Append(ledgerPath, entry);
        }

        CheckSignature(directory, signed, manifestBytes, manifest, auditPublicKeyPem);
        return new BackupRestore(manifest, restored, bytes, shredded, skipped);
    }

    /// <summary>Decrypts and parses the manifest.</summary>
    public static async Task<(BackupManifest Manifest, SignedManifest Signed, byte[] Bytes)> ReadManifestAsync(string root, Crypt4ghPrivateKey key, CancellationToken cancellationToken)
    {
        var format = Path.Combine(root, BackupLayout.FormatFile);
        if (!File.Exists(format) || File.ReadLines(format).FirstOrDefault() != BackupLayout.FormatLine)
        {
            throw new BackupException($"{root} is not a complete OpenSPE backup (no {BackupLayout.FormatFile} with '{BackupLayout.FormatLine}')");
        }

        var path = Path.Combine(root, BackupLayout.ManifestFile);
        if (!File.Exists(path) || new FileInfo(path).Length > MaxManifestBytes)
        {
            throw new BackupException($"{BackupLayout.ManifestFile} is missing or too large");
        }

        using var plain = new MemoryStream();
        try
        {
            await using var input = File.OpenRead(path);
            await Crypt4ghFile.DecryptAsync(input, plain, key, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Crypt4ghException ex)
        {
            throw new BackupException($"{BackupLayout.ManifestFile} does not decrypt with this key (a wrong backup key, or the manifest was altered): {ex.Message}", ex);
        }

        try
        {
            var signed = JsonSerializer.Deserialize<SignedManifest>(plain.ToArray(), BackupManifest.Json) ?? throw new JsonException("empty");
            var bytes = Convert.FromBase64String(signed.Manifest);
            var manifest = JsonSerializer.Deserialize<BackupManifest>(bytes, BackupManifest.Json) ?? throw new JsonException("empty");
            if (manifest.Format != BackupManifest.CurrentFormat)
            {
                throw new BackupException($"the manifest format is '{manifest.Format}', not '{BackupManifest.CurrentFormat}'");
            }

            return (manifest, signed, bytes);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            throw new BackupException($"{BackupLayout.ManifestFile} is not a backup manifest: {ex.Message}", ex);
        }
    }

    private static bool BelongsToShredded(BackupPiece piece, HashSet<string> shredded)
    {
        if (shredded.Count == 0)
        {
            return false;
        }

        foreach (var project in shredded)
        {
            if (piece.Name == $"{WrappedKeyStore.KeysFolder}/{project}.key" || piece.Name.StartsWith("objects/" + ProjectIds.ObjectPrefix(project), StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Where a piece goes; a name that would leave the data directory is refused (the manifest is signed, but fail closed all the same).</summary>
    private static string Destination(string root, BackupPiece piece)
    {
        var destination = Path.GetFullPath(Path.Combine(root, piece.Name));
        var relative = Path.GetRelativePath(root, destination);
        if (piece.Name.Length == 0 || Path.IsPathRooted(piece.Name) || relative.StartsWith("..", StringComparison.Ordinal) || relative == ".")
        {
            throw new BackupException($"piece {piece.Sequence} names a path outside the data directory");
        }

        return destination;
    }

    private static async Task RestorePieceAsync(string root, BackupPiece piece, Crypt4ghPrivateKey key, string destination, CancellationToken cancellationToken)
    {
        var source = Path.Combine(root, piece.FileName);
        if (!File.Exists(source))
        {
            throw new BackupException($"piece {piece.Sequence} ({piece.FileName}) is missing");
        }

        DurableFiles.EnsureDirectory(Path.GetDirectoryName(destination)!);
        var temporary = DurableFiles.TemporaryPathFor(destination);
        string cipherSha;
        string plainSha;
        long size;
        try
        {
            await using (var cipher = new HashingStream(File.OpenRead(source)))
            await using (var plain = new HashingStream(new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite })))
            {
                await Crypt4ghFile.DecryptAsync(cipher, plain, key, cancellationToken: cancellationToken).ConfigureAwait(false);
                await plain.FlushAsync(cancellationToken).ConfigureAwait(false);
                cipherSha = cipher.FinishHex();
                plainSha = plain.FinishHex();
                size = plain.Count;
            }

            if (cipherSha != piece.CipherSha256 || plainSha != piece.Sha256 || size != piece.Size)
            {
                throw new BackupException($"piece {piece.Sequence} ({piece.FileName}) does not match the manifest: its SHA-256 differs, so it was altered or damaged");
            }

            File.Move(temporary, destination);
        }
        catch (Crypt4ghException ex)
        {
            throw new BackupException($"piece {piece.Sequence} ({piece.FileName}) does not decrypt: {ex.Message}", ex);
        }
        finally
        {
            DurableFiles.TryDelete(temporary);
        }
    }

    private static void CheckSignature(DataDirectory directory, SignedManifest signed, byte[] manifestBytes, BackupManifest manifest, string? auditPublicKeyPem)
    {
        using var key = auditPublicKeyPem is null ? AuditKeyFile.LoadPublic(directory) : AuditSigningKey.FromPem(auditPublicKeyPem);
        if (!key.Verify(BackupWriter.SignatureOf(signed, manifestBytes, manifest.Pieces.Count)))
        {
            throw new BackupException($"the manifest's signature does not verify with audit key {key.KeyId}: the backup was not made by this SPE, or its manifest was replaced");
        }
    }
}
