using System.Security.Cryptography;
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
/// <param name="Shredded">Projects whose key, objects and files were left out because the merged shred ledger names them.</param>
/// <param name="SkippedPieces">Pieces left out for those projects.</param>
/// <param name="StaleStagingRemoved">Staging directories of earlier restores into the same target that had stopped part-way (crashed or killed) and were removed first.</param>
internal sealed record BackupRestore(BackupManifest Manifest, int Restored, long Bytes, IReadOnlyList<ShredLedgerEntry> Shredded, int SkippedPieces, int StaleStagingRemoved = 0);

/// <summary>
/// Restores a backup into a new data directory: checks the manifest's signature before anything is written, decrypts every
/// piece with the backup secret key into a staging directory beside the target, checks the SHA-256 of its ciphertext and
/// plaintext against the signed manifest, leaves out everything of every crypto-shredded project (the backup's own ledger
/// merged with any newer ledgers given), and only when all of that succeeded syncs the staging directory and renames it
/// into place. On any failure the staging directory is removed and the target does not exist.
/// </summary>
internal static class BackupReader
{
    private const long MaxManifestBytes = 256L * 1024 * 1024;

    /// <summary>The marker a staging directory carries while a restore writes into it; a server refuses a data directory that has it.</summary>
    public const string IncompleteMarker = "RESTORE-INCOMPLETE";

    /// <summary>What the staging directory of a restore into <c>T</c> is called: <c>.T.spe-restore-&lt;random&gt;</c> beside <c>T</c>.</summary>
    private const string StagingInfix = ".spe-restore-";

    private static readonly AsyncLocal<Action<BackupPiece>?> AfterPiece = new();

    /// <summary>Test hook, for the calling flow only: called after each piece is written into the staging directory (a failure mid-restore).</summary>
    internal static Action<BackupPiece>? AfterPieceForTests { get => AfterPiece.Value; set => AfterPiece.Value = value; }

    /// <summary>Restores <paramref name="backup"/> into <paramref name="target"/> (absent or empty).</summary>
    /// <param name="backup">The backup directory.</param>
    /// <param name="key">The backup secret key.</param>
    /// <param name="target">The new data directory.</param>
    /// <param name="postgres">For a PostgreSQL backup: the empty database to load it into.</param>
    /// <param name="ledgers">Shred ledgers newer than the backup (e.g. the copy on the backup volume).</param>
    /// <param name="auditPublicKeyPem">The audit public key kept apart from the server, to check the manifest signature against; null uses the backup's own.</param>
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

        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        if (File.Exists(full) || (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any()))
        {
            throw new BackupException($"{full} is not empty; a restore goes into a new or empty directory, never over a data directory");
        }

        // Note: the signature is checked before a single byte is written, because a backup made by another SPE (or with a
        // replaced manifest) must leave nothing behind: no keys, no database, no directory an operator could start a server on.
        await CheckSignatureAsync(root, manifest, signed, manifestBytes, key, auditPublicKeyPem, cancellationToken).ConfigureAwait(false);
        var shredded = ShredLedger.Merge(manifest.Shredded.Concat(ledgers.SelectMany(ShredLedger.Read)));
        var shreddedIds = shredded.Select(e => e.ProjectId).ToHashSet(StringComparer.Ordinal);

        var parent = Path.GetDirectoryName(full) ?? throw new BackupException($"{full} has no parent directory to stage the restore in");
        Directory.CreateDirectory(parent);
        var staleRemoved = RemoveStaleStaging(parent, Path.GetFileName(full));
        // Note: the restore is written into a staging directory beside the target (the same file system, so the final rename is
        // atomic) and renamed into place only when every piece checked out, because a half-written data directory holds
        // keys and a database a server would start on, silently creating new keys around the missing ones.
        var staging = Path.Combine(parent, "." + Path.GetFileName(full) + StagingInfix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var moved = false;
        FileStream? marker = null;
        try
        {
            // The marker is held open with an exclusive lock for as long as this restore runs: a later restore that can take the
            // lock knows the staging directory is left from one that stopped, and one that cannot knows a restore is running.
            marker = new FileStream(Path.Combine(staging, IncompleteMarker), new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            marker.Write("openspe restore in progress; this directory is not a data directory\n"u8);
            marker.Flush(flushToDisk: true);

            var result = await RestoreIntoAsync(root, manifest, key, staging, postgres, shredded, shreddedIds, cancellationToken).ConfigureAwait(false);
            SyncTree(staging);

            // Note: the marker goes before the rename (unlinked while still locked), so the directory that appears at the target
            // never carries it; the lock stays held until the rename is durable.
            File.Delete(Path.Combine(staging, IncompleteMarker));
            DurableFiles.SyncDirectory(staging);
            if (Directory.Exists(full))
            {
                Directory.Delete(full);
            }

            Directory.Move(staging, full);
            moved = true;
            DurableFiles.SyncDirectory(parent);
            return result with { StaleStagingRemoved = staleRemoved };
        }
        finally
        {
            marker?.Dispose();
            if (!moved)
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                TryDeleteTree(staging);
            }
        }
    }

    private static async Task<BackupRestore> RestoreIntoAsync(string root, BackupManifest manifest, Crypt4ghPrivateKey key, string staging, string? postgres,
        IReadOnlyList<ShredLedgerEntry> shredded, HashSet<string> shreddedIds, CancellationToken cancellationToken)
    {
        var restored = 0;
        var skipped = 0;
        long bytes = 0;
        string? dump = null;
        foreach (var piece in manifest.Pieces)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Note: nothing of a crypto-shredded project comes back, whatever its path (its key, its objects, its job output),
            // because the ledger is newer than the backup: restoring any of it would undo an erasure the HDAB was given a
            // certificate for.
            if (BelongsToShredded(piece, shreddedIds))
            {
                skipped++;
                continue;
            }

            var destination = piece.Kind switch
            {
                BackupPieceKind.PostgresDump => Path.Combine(staging, ".restore-" + piece.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                // Note: a project's own files stay encrypted to the project key as the backup holds them; the server opens them
                // with the project key at its next start (RestoredProjectFiles), and a project without a key never sees them again.
                BackupPieceKind.ProjectFile => Destination(staging, piece) + RestoredProjectFiles.Suffix,
                _ => Destination(staging, piece),
            };
            await RestorePieceAsync(root, piece, key, destination, cancellationToken).ConfigureAwait(false);
            if (piece.Kind == BackupPieceKind.PostgresDump)
            {
                dump = destination;
            }

            AfterPieceForTests?.Invoke(piece);
            restored++;
            bytes += piece.Size;
        }

        if (manifest.Pieces.Any(p => p.Kind == BackupPieceKind.ProjectFile && !BelongsToShredded(p, shreddedIds)))
        {
            // Tells the server's start to open the sealed project files (RestoredProjectFiles); without it a start does not look.
            await File.WriteAllTextAsync(Path.Combine(staging, RestoredProjectFiles.PendingMarker), "sealed project files from a backup wait to be opened\n", cancellationToken).ConfigureAwait(false);
        }

        // The merged ledger goes into the new data directory, so every later backup carries it forward.
        var ledgerPath = Path.Combine(staging, ShredLedger.FileName);
        File.Delete(ledgerPath);
        foreach (var entry in shredded)
        {
            ShredLedger.Append(ledgerPath, entry);
        }

        // Note: the PostgreSQL dump is loaded last, after every file piece checked out, because a database cannot be taken back
        // with the staging directory; a failure before this point leaves the empty target database empty.
        if (dump is not null)
        {
            try
            {
                await DatabaseSnapshot.RestorePostgresAsync(dump, postgres!, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                File.Delete(dump);
            }
        }

        await DropShreddedRowsAsync(manifest, staging, postgres, shreddedIds, cancellationToken).ConfigureAwait(false);
        return new BackupRestore(manifest, restored, bytes, shredded, skipped);
    }

    /// <summary>
    /// Deletes the database rows that hold a shredded project's content: its jobs (their commands; their output is a file,
    /// left out above). Without the rows the restored server answers 404 for the job and its log.
    /// </summary>
    private static async Task DropShreddedRowsAsync(BackupManifest manifest, string staging, string? postgres, HashSet<string> shreddedIds, CancellationToken cancellationToken)
    {
        if (shreddedIds.Count == 0)
        {
            return;
        }

        System.Data.Common.DbConnection connection = manifest.Database == "postgresql"
            ? new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(postgres) { Pooling = false }.ConnectionString)
            : new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = Path.Combine(staging, "spe.db"), Pooling = false }.ConnectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            foreach (var project in shreddedIds)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "DELETE FROM jobs WHERE \"ProjectId\" = @p";
                var parameter = command.CreateParameter();
                parameter.ParameterName = "@p";
                parameter.Value = project;
                command.Parameters.Add(parameter);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Removes the staging directories of earlier restores into <paramref name="name"/> that stopped part-way (their marker's
    /// lock is free: the process that held it is gone); refuses when one is still running or one lost its marker.
    /// </summary>
    private static int RemoveStaleStaging(string parent, string name)
    {
        var removed = 0;
        foreach (var stale in Directory.EnumerateDirectories(parent, "." + name + StagingInfix + "*"))
        {
            var marker = Path.Combine(stale, IncompleteMarker);
            if (!File.Exists(marker))
            {
                throw new BackupException($"{stale} is left from a restore that stopped while moving into place (it has no {IncompleteMarker} marker); check it and remove it by hand");
            }

            try
            {
                using (new FileStream(marker, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    // Note: a stale staging directory is removed rather than kept, because it holds decrypted keys and a database
                    // that nothing will ever use: the restore that wrote it stopped before it was whole.
                    TryDeleteTree(stale);
                }
            }
            catch (IOException) when (Directory.Exists(stale))
            {
                throw new BackupException($"another restore into {Path.Combine(parent, name)} is running (staging directory {stale})");
            }

            removed++;
        }

        return removed;
    }

    private static void TryDeleteTree(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next restore into the same target, which recognises it by its marker and removes it.
        }
    }

    /// <summary>fsync(2) on every directory of the tree (files were synced as they were written), deepest first.</summary>
    private static void SyncTree(string root)
    {
        foreach (var directory in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
        {
            DurableFiles.SyncDirectory(directory);
        }

        DurableFiles.SyncDirectory(root);
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

            // Note: every field is checked for null here, before the signature, because anyone holding the backup public key
            // can encrypt a manifest, and a null one crashed the restore with a stack trace instead of this message.
            if (signed.Manifest is null || signed.KeyId is null || signed.Signature is null)
            {
                throw new JsonException("the signed manifest lacks its manifest, key id or signature");
            }

            var bytes = Convert.FromBase64String(signed.Manifest);
            var manifest = JsonSerializer.Deserialize<BackupManifest>(bytes, BackupManifest.Json) ?? throw new JsonException("empty");
            if (manifest.Format is null || manifest.Database is null || manifest.Pieces is null || manifest.Shredded is null
                || manifest.Pieces.Any(p => p is null || p.Kind is null || p.Name is null || p.Sha256 is null || p.CipherSha256 is null) || manifest.Shredded.Any(e => e is null))
            {
                throw new JsonException("a field of the manifest or of one of its pieces is missing");
            }

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

    /// <summary>
    /// Whether a piece belongs to a shredded project: its wrapped key, its objects, its files under <c>projects/&lt;p&gt;/</c>,
    /// or any other path with a part named by the project (<c>&lt;p&gt;</c> or <c>&lt;p&gt;.*</c>).
    /// </summary>
    internal static bool BelongsToShredded(BackupPiece piece, IReadOnlySet<string> shredded)
    {
        if (shredded.Count == 0 || piece.Kind is BackupPieceKind.SqliteDatabase or BackupPieceKind.PostgresDump or BackupPieceKind.Configuration)
        {
            return false;
        }

        // Note: matched on every part of the path, not on the paths known today, because a folder a later version keeps per
        // project must not bring an erased project's data back from an old backup unnoticed.
        foreach (var part in piece.Name.Split('/'))
        {
            if (shredded.Contains(part) || (part.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot && shredded.Contains(part[..dot])))
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
            await using (var file = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            await using (var plain = new HashingStream(file))
            {
                await Crypt4ghFile.DecryptAsync(cipher, plain, key, cancellationToken: cancellationToken).ConfigureAwait(false);
                await plain.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
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

    /// <summary>
    /// Checks the manifest's signature against <paramref name="auditPublicKeyPem"/> or, without it, against the backup's own
    /// audit key (decrypted into memory and checked against the manifest's sums first); nothing is written.
    /// </summary>
    private static async Task CheckSignatureAsync(string root, BackupManifest manifest, SignedManifest signed, byte[] manifestBytes, Crypt4ghPrivateKey key, string? auditPublicKeyPem,
        CancellationToken cancellationToken)
    {
        var pem = auditPublicKeyPem;
        if (pem is null)
        {
            var piece = manifest.Pieces.FirstOrDefault(p => p.Name == AuditKeyFile.PublicKeyName) ?? manifest.Pieces.FirstOrDefault(p => p.Name == AuditKeyFile.PrivateKeyName)
                ?? throw new BackupException($"the backup holds no audit key ({AuditKeyFile.PublicKeyName}) to check the manifest's signature with; give --public-key");
            using var plain = new MemoryStream();
            await DecryptCheckedAsync(root, piece, key, plain, cancellationToken).ConfigureAwait(false);
            pem = System.Text.Encoding.UTF8.GetString(plain.ToArray());
        }

        using var full = AuditSigningKey.FromPem(pem);
        using var verifier = AuditSigningKey.FromPem(full.ExportPublicKeyPem());
        if (!verifier.Verify(BackupWriter.SignatureOf(signed, manifestBytes, manifest.Pieces.Count)))
        {
            throw new BackupException($"the manifest's signature does not verify with audit key {verifier.KeyId}: the backup was not made by this SPE, or its manifest was replaced; nothing was written");
        }
    }

    /// <summary>Decrypts a (small) piece into memory, checked against both of its SHA-256 sums.</summary>
    private static async Task DecryptCheckedAsync(string root, BackupPiece piece, Crypt4ghPrivateKey key, Stream output, CancellationToken cancellationToken)
    {
        var source = Path.Combine(root, piece.FileName);
        if (!File.Exists(source))
        {
            throw new BackupException($"piece {piece.Sequence} ({piece.FileName}) is missing");
        }

        try
        {
            await using var cipher = new HashingStream(File.OpenRead(source));
            await using var plain = new HashingStream(output, leaveOpen: true);
            await Crypt4ghFile.DecryptAsync(cipher, plain, key, cancellationToken: cancellationToken).ConfigureAwait(false);
            await plain.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (cipher.FinishHex() != piece.CipherSha256 || plain.FinishHex() != piece.Sha256 || plain.Count != piece.Size)
            {
                throw new BackupException($"piece {piece.Sequence} ({piece.FileName}) does not match the manifest: its SHA-256 differs, so it was altered or damaged");
            }
        }
        catch (Crypt4ghException ex)
        {
            throw new BackupException($"piece {piece.Sequence} ({piece.FileName}) does not decrypt: {ex.Message}", ex);
        }
    }
}
