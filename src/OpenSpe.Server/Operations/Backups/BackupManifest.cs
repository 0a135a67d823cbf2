using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>
/// What a backup holds: one entry per piece with the SHA-256 of its plaintext and of its encrypted file. It is stored
/// only inside the encrypted manifest (<c>manifest.c4gh</c>), because the names it lists (object keys, key files) say
/// which projects and datasets exist.
/// </summary>
/// <param name="Format">Always <see cref="CurrentFormat"/>.</param>
/// <param name="CreatedAt">When the backup started.</param>
/// <param name="Database">The database engine the pieces came from: <c>sqlite</c> or <c>postgresql</c>.</param>
/// <param name="Pieces">Every piece, in sequence order.</param>
/// <param name="Shredded">The shred ledger as it stood when the backup was made (projects whose keys were destroyed).</param>
internal sealed record BackupManifest(string Format, DateTimeOffset CreatedAt, string Database, IReadOnlyList<BackupPiece> Pieces, IReadOnlyList<ShredLedgerEntry> Shredded)
{
    /// <summary>The manifest format this code writes and reads.</summary>
    public const string CurrentFormat = "openspe-backup-manifest 1";

    /// <summary>The serialiser settings for manifests (camelCase, no indentation).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
}

/// <summary>One encrypted piece of a backup.</summary>
/// <param name="Sequence">Its number; the file is <c>pieces/&lt;sequence, six digits&gt;.c4gh</c>.</param>
/// <param name="Kind">What it is (<see cref="BackupPieceKind"/>).</param>
/// <param name="Name">Where it goes on restore: a path relative to the data directory (<c>spe.db</c>, <c>keys/p1.key</c>, <c>objects/...</c>).</param>
/// <param name="Size">Plaintext size in bytes.</param>
/// <param name="Sha256">SHA-256 (hex) of the plaintext.</param>
/// <param name="CipherSha256">SHA-256 (hex) of the encrypted file as stored in the backup.</param>
internal sealed record BackupPiece(int Sequence, string Kind, string Name, long Size, string Sha256, string CipherSha256)
{
    /// <summary>The piece's file name inside the backup directory: a sequence number, never a name from the data.</summary>
    public string FileName => Path.Combine(BackupLayout.PiecesFolder, Sequence.ToString("D6", System.Globalization.CultureInfo.InvariantCulture) + ".c4gh");
}

/// <summary>The kinds of backup piece.</summary>
internal static class BackupPieceKind
{
    /// <summary>A consistent copy of the SQLite database (online backup API).</summary>
    public const string SqliteDatabase = "sqlite-database";

    /// <summary>A <c>pg_dump</c> archive (custom format) of the PostgreSQL database.</summary>
    public const string PostgresDump = "postgresql-dump";

    /// <summary>A file of the data directory (keys, certificates, ledgers).</summary>
    public const string File = "file";

    /// <summary>An object of the object store (Crypt4GH objects stay as they are, and are encrypted once more).</summary>
    public const string Object = "object";

    /// <summary>The server's configuration file (<c>--config</c>).</summary>
    public const string Configuration = "configuration";

    /// <summary>
    /// A project's own file under <c>projects/&lt;project&gt;/</c> (job output), Crypt4GH-encrypted to that project's key before
    /// it is encrypted to the backup key; its sums are those of the project-key ciphertext, which is what a restore writes.
    /// </summary>
    public const string ProjectFile = "project-file";
}

/// <summary>Names inside a backup directory.</summary>
internal static class BackupLayout
{
    /// <summary>The only plaintext file: the format line and the fingerprint of the backup public key (no data, no names).</summary>
    public const string FormatFile = "FORMAT";

    /// <summary>The encrypted, signed manifest.</summary>
    public const string ManifestFile = "manifest.c4gh";

    /// <summary>The folder of encrypted pieces.</summary>
    public const string PiecesFolder = "pieces";

    /// <summary>The first line of <see cref="FormatFile"/>.</summary>
    public const string FormatLine = "openspe-backup 1";

    /// <summary>Where a restore puts the configuration piece (inside the new data directory, 0600), for the operator to review.</summary>
    public const string RestoredConfigurationName = "restored-configuration.json";

    /// <summary>The audit checkpoint kind the manifest signature is made as.</summary>
    public const string SignatureKind = "backup-manifest";
}

/// <summary>The manifest as stored: its exact bytes and the signature over their SHA-256, made with the data directory's audit checkpoint key.</summary>
/// <param name="Manifest">The manifest's UTF-8 JSON, base64.</param>
/// <param name="KeyId">The audit key's id.</param>
/// <param name="TimestampMicros">The signature's time.</param>
/// <param name="Signature">ECDSA P-256 signature (IEEE P1363), base64.</param>
internal sealed record SignedManifest(string Manifest, string KeyId, long TimestampMicros, string Signature);
