using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenSpe.Core.Audit;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>Where a backup's pieces come from.</summary>
/// <param name="DataDirectory">The server's data directory.</param>
/// <param name="DatabaseConnectionString">The server's database (null: SQLite in the data directory).</param>
/// <param name="ObjectRoot">The object store's root when configured outside <c>&lt;data&gt;/objects</c>; null for the default.</param>
/// <param name="ConfigurationFile">The server's configuration file, to back up with the rest; null when there is none.</param>
/// <param name="KeyManagement">How the project keys are kept (<c>Vault:KeyManagement</c>), for an offline backup to open them; null: the local keyring.</param>
/// <param name="ProjectKeys">The running server's project key store (scheduled backups); null: opened offline from <paramref name="KeyManagement"/>.</param>
internal sealed record BackupSource(string DataDirectory, string? DatabaseConnectionString, string? ObjectRoot, string? ConfigurationFile,
    Vault.KeyManagementOptions? KeyManagement = null, Vault.IProjectKeyStore? ProjectKeys = null);

/// <summary>
/// Writes an encrypted backup of a data directory, safe while the server runs on it: every piece (the database copy, the
/// data directory's files, the object store, the configuration) is Crypt4GH-encrypted to the backup public key under a
/// sequence-number name, and the manifest of SHA-256 sums is encrypted too and signed with the audit checkpoint key.
/// </summary>
internal static class BackupWriter
{
    /// <summary>Data-directory entries never backed up: the process lock, partial uploads (the client resumes them from its own copy), and our own work folder.</summary>
    // Note: "airlock-work" holds plaintext for a moment (an export's files while they are checked, an import's decrypted copy
    // while it is placed); a backup, which the operator can restore and read, must never carry project data in clear (SDR-2).
    private static readonly string[] Skipped = [DataDirectoryLock.FileName, "uploads", Airlock.AirlockWorkSweep.DirectoryName];

    private const string WorkPrefix = "backup-work-";

    /// <summary>The data-directory folder that holds each project's own files (job output) under <c>projects/&lt;project&gt;/</c>.</summary>
    public const string ProjectsFolder = "projects";

    /// <summary>Makes the backup in <paramref name="output"/> (absent or empty); returns its manifest.</summary>
    public static async Task<BackupManifest> CreateAsync(BackupSource source, string output, Crypt4ghPublicKey recipient, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(recipient);
        var directory = DataDirectory.OpenExisting(source.DataDirectory);
        if (!File.Exists(directory.File(AuditKeyFile.PrivateKeyName)))
        {
            throw new BackupException($"{directory.Path} is not a server data directory (it has no {AuditKeyFile.PrivateKeyName}; start the server on it once)");
        }

        if (BackupPaths.OutputProblem(output, directory.Path, source.ObjectRoot) is { } problem)
        {
            throw new BackupException(problem);
        }

        var target = PrepareOutput(output);
        var database = SpeDatabase.Resolve(new DatabaseOptions { ConnectionString = source.DatabaseConnectionString }, directory.Path);
        var createdAt = time.GetUtcNow();
        var pieces = new List<BackupPiece>();
        var work = Path.Combine(directory.Path, WorkPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        Directory.CreateDirectory(work, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var projectKeys = new BackupProjectKeys(directory, source, Path.Combine(work, "vault"), time);
        try
        {
            // Note: the audit log's record of its last signed checkpoint is read before the database is copied, because a
            // restored server refuses a log that lacks the checkpoint this file names; a copy taken after the database
            // could name a checkpoint signed after the database copy.
            var checkpointState = directory.File(AuditCheckpointLedger.StateFileName);
            byte[]? checkpointBytes = File.Exists(checkpointState) ? await File.ReadAllBytesAsync(checkpointState, cancellationToken).ConfigureAwait(false) : null;

            var snapshot = Path.Combine(work, "database");
            var kind = await DatabaseSnapshot.TakeAsync(database, snapshot, cancellationToken).ConfigureAwait(false);
            pieces.Add(await WritePieceAsync(target, pieces.Count + 1, kind, kind == BackupPieceKind.SqliteDatabase ? "spe.db" : "spe.pgdump", snapshot, recipient, cancellationToken).ConfigureAwait(false));
            File.Delete(snapshot);
            if (checkpointBytes is not null)
            {
                pieces.Add(await WritePieceAsync(target, pieces.Count + 1, BackupPieceKind.File, AuditCheckpointLedger.StateFileName, new MemoryStream(checkpointBytes), recipient, cancellationToken).ConfigureAwait(false));
            }

            // Note: keys and objects are copied after the database, so every project and file the copied database knows
            // has its key and object in the backup; anything newer is an unreferenced extra, which is harmless.
            var databaseFiles = SqliteFiles(database);
            foreach (var (name, path) in DataDirectoryFiles(directory.Path, databaseFiles))
            {
                if (name == AuditCheckpointLedger.StateFileName)
                {
                    continue;
                }

                BackupPiece? piece;
                if (name.StartsWith(ProjectsFolder + "/", StringComparison.Ordinal))
                {
                    // Note: a project's own files (job output, derived from its datasets) are encrypted to the project's key
                    // before the backup key, because a backup is readable by whoever holds the backup key, and crypto-shredding
                    // the project key must leave them unreadable in every backup as it does the project's objects (SDR-2).
                    piece = await TryWriteProjectFileAsync(target, pieces.Count + 1, name, path, projectKeys, recipient, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    piece = await TryWriteFileAsync(target, pieces.Count + 1, name.StartsWith("objects/", StringComparison.Ordinal) ? BackupPieceKind.Object : BackupPieceKind.File, name, path, recipient, cancellationToken).ConfigureAwait(false);
                }

                if (piece is not null)
                {
                    pieces.Add(piece);
                }
            }

            if (source.ObjectRoot is { } root && !IsInside(root, directory.Path))
            {
                foreach (var (name, path) in Walk(Path.GetFullPath(root), "objects/"))
                {
                    var piece = await TryWriteFileAsync(target, pieces.Count + 1, BackupPieceKind.Object, name, path, recipient, cancellationToken).ConfigureAwait(false);
                    if (piece is not null)
                    {
                        pieces.Add(piece);
                    }
                }
            }

            if (source.ConfigurationFile is { } configuration)
            {
                pieces.Add(await WritePieceAsync(target, pieces.Count + 1, BackupPieceKind.Configuration, BackupLayout.RestoredConfigurationName, configuration, recipient, cancellationToken).ConfigureAwait(false));
            }

            var shredded = ShredLedger.Merge(ShredLedger.Read(directory.File(ShredLedger.FileName)));
            var manifest = new BackupManifest(BackupManifest.CurrentFormat, createdAt, database.Provider == DatabaseProvider.Sqlite ? "sqlite" : "postgresql", pieces, shredded);
            await WriteManifestAsync(directory, target, manifest, recipient, time, cancellationToken).ConfigureAwait(false);

            // Note: FORMAT is written last, so a backup interrupted part-way has none and no tool mistakes it for a whole one.
            await File.WriteAllTextAsync(Path.Combine(target, BackupLayout.FormatFile), $"{BackupLayout.FormatLine}\nrecipient {recipient.Fingerprint}\n", cancellationToken).ConfigureAwait(false);
            return manifest;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string PrepareOutput(string output)
    {
        var target = Path.GetFullPath(output);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new BackupException($"{target} is not empty; a backup goes into a new or empty directory");
        }

        Directory.CreateDirectory(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.Combine(target, BackupLayout.PiecesFolder), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return target;
    }

    /// <summary>The SQLite files of the live database, when they lie in the data directory (they are backed up through the online backup API instead).</summary>
    private static HashSet<string> SqliteFiles(SpeDatabase database)
    {
        var files = new HashSet<string>(StringComparer.Ordinal);
        if (database.Provider == DatabaseProvider.Sqlite)
        {
            var file = Path.GetFullPath(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource);
            foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
            {
                files.Add(file + suffix);
            }
        }

        return files;
    }

    private static IEnumerable<(string Name, string Path)> DataDirectoryFiles(string root, HashSet<string> databaseFiles) =>
        Walk(root, "").Where(f =>
        {
            var top = f.Name.Split('/')[0];
            return !Skipped.Contains(top) && !top.StartsWith(WorkPrefix, StringComparison.Ordinal) && !databaseFiles.Contains(f.Path);
        });

    /// <summary>Regular files under <paramref name="root"/>, in ordinal order, named <paramref name="prefix"/> + their relative path; temporary files are left out.</summary>
    private static List<(string Name, string Path)> Walk(string root, string prefix)
    {
        if (!Directory.Exists(root))
        {
            return [];
        }

        return Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = false })
            .Where(p => !Path.GetFileName(p).StartsWith(Vault.DurableFiles.TemporaryPrefix, StringComparison.Ordinal) && !p.EndsWith(".tmp", StringComparison.Ordinal))
            .Select(p => (Name: prefix + Path.GetRelativePath(root, p).Replace(Path.DirectorySeparatorChar, '/'), Path: p))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
    }

    private static bool IsInside(string path, string directory)
    {
        var relative = Path.GetRelativePath(Path.GetFullPath(directory), Path.GetFullPath(path));
        return !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative);
    }

    /// <summary>A file that may vanish while we copy (an upload committed and moved, a project erased): gone means not in this backup.</summary>
    private static async Task<BackupPiece?> TryWriteFileAsync(string target, int sequence, string kind, string name, string path, Crypt4ghPublicKey recipient, CancellationToken cancellationToken)
    {
        FileStream source;
        try
        {
            source = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, Options = FileOptions.SequentialScan });
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        return await WritePieceAsync(target, sequence, kind, name, source, recipient, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A file of <c>projects/&lt;project&gt;/</c>, encrypted to the project's key into a work file, then written as a piece;
    /// null when it vanished or its project has no key any more (erased: nothing of it goes into the backup).
    /// </summary>
    private static async Task<BackupPiece?> TryWriteProjectFileAsync(string target, int sequence, string name, string path, BackupProjectKeys projectKeys, Crypt4ghPublicKey recipient,
        CancellationToken cancellationToken)
    {
        var parts = name.Split('/');
        var projectKey = parts.Length > 2 ? await projectKeys.PublicKeyAsync(parts[1], cancellationToken).ConfigureAwait(false) : null;
        if (projectKey is null)
        {
            // Note: a file under projects/ that names no project with a key is left out rather than backed up in clear.
            return null;
        }

        var sealedCopy = projectKeys.WorkFile();
        try
        {
            try
            {
                await using var plain = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, Options = FileOptions.SequentialScan });
                await using var sealedStream = new FileStream(sealedCopy, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
                await Crypt4ghFile.EncryptAsync(plain, sealedStream, [projectKey], cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }

            return await WritePieceAsync(target, sequence, BackupPieceKind.ProjectFile, name, sealedCopy, recipient, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(sealedCopy);
        }
    }

    private static Task<BackupPiece> WritePieceAsync(string target, int sequence, string kind, string name, string path, Crypt4ghPublicKey recipient, CancellationToken cancellationToken) =>
        WritePieceAsync(target, sequence, kind, name, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite), recipient, cancellationToken);

    private static async Task<BackupPiece> WritePieceAsync(string target, int sequence, string kind, string name, Stream plaintext, Crypt4ghPublicKey recipient, CancellationToken cancellationToken)
    {
        var piece = new BackupPiece(sequence, kind, name, 0, "", "");
        var path = Path.Combine(target, piece.FileName);
        await using var plain = new HashingStream(plaintext);
        await using (var cipher = new HashingStream(new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite })))
        {
            await Crypt4ghFile.EncryptAsync(plain, cipher, [recipient], cancellationToken: cancellationToken).ConfigureAwait(false);
            await cipher.FlushAsync(cancellationToken).ConfigureAwait(false);
            piece = piece with { CipherSha256 = cipher.FinishHex() };
        }

        return piece with { Size = plain.Count, Sha256 = plain.FinishHex() };
    }

    private static async Task WriteManifestAsync(DataDirectory directory, string target, BackupManifest manifest, Crypt4ghPublicKey recipient, TimeProvider time, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, BackupManifest.Json);
        using var key = AuditKeyFile.LoadOrCreate(directory);
        var signature = key.Sign(manifest.Pieces.Count, SHA256.HashData(bytes), time.GetUtcNow().ToUnixTimeMilliseconds() * 1000, BackupLayout.SignatureKind);
        var signed = new SignedManifest(Convert.ToBase64String(bytes), signature.KeyId, signature.TimestampMicros, Convert.ToBase64String(signature.Signature));
        var envelope = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(signed, BackupManifest.Json));
        await using var output = new FileStream(Path.Combine(target, BackupLayout.ManifestFile), new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
        await Crypt4ghFile.EncryptAsync(new MemoryStream(envelope), output, [recipient], cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The checkpoint whose signature covers a manifest (the same form the audit key signs checkpoints in).</summary>
    public static AuditCheckpoint SignatureOf(SignedManifest signed, byte[] manifestBytes, int pieces) =>
        new(pieces, SHA256.HashData(manifestBytes), signed.TimestampMicros, BackupLayout.SignatureKind, signed.KeyId, Convert.FromBase64String(signed.Signature));
}
