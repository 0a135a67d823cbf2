using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using OpenSpe.Cli.Client;

namespace OpenSpe.Cli.Transfers;

/// <summary>How a file is sent.</summary>
internal enum UploadMode
{
    /// <summary>A plaintext file, encrypted here for the project key into a staged <c>.c4gh</c> file that is then uploaded.</summary>
    Encrypt,

    /// <summary>A file already in Crypt4GH format, sent as it is.</summary>
    PreEncrypted,
}

/// <summary>
/// What a re-run of <c>spe upload</c> needs to resume one file: which source file (and which version of it, by size and
/// modification time), what is sent (the staged ciphertext or the source itself), its hashes, and the server's upload URL.
/// Holds no secret: no key, no token, no plaintext.
/// </summary>
internal sealed record UploadState
{
    public const int CurrentVersion = 2;

    [JsonPropertyName("version")]
    public int Version { get; init; } = CurrentVersion;

    [JsonPropertyName("server")]
    public required string Server { get; init; }

    [JsonPropertyName("project")]
    public required string Project { get; init; }

    [JsonPropertyName("dataset")]
    public required string Dataset { get; init; }

    [JsonPropertyName("source")]
    public required string Source { get; init; }

    [JsonPropertyName("sourceSize")]
    public required long SourceSize { get; init; }

    [JsonPropertyName("sourceModified")]
    public required DateTimeOffset SourceModified { get; init; }

    [JsonPropertyName("mode")]
    [JsonConverter(typeof(JsonStringEnumConverter<UploadMode>))]
    public required UploadMode Mode { get; init; }

    /// <summary>The project key the staged file is encrypted for (null for pre-encrypted files).</summary>
    [JsonPropertyName("keyFingerprint")]
    public string? KeyFingerprint { get; init; }

    /// <summary>The staged ciphertext (null for pre-encrypted files, which are sent from <see cref="Source"/>).</summary>
    [JsonPropertyName("staged")]
    public string? Staged { get; init; }

    [JsonPropertyName("filename")]
    public required string Filename { get; init; }

    /// <summary>Upload-Length: the size of what is sent.</summary>
    [JsonPropertyName("length")]
    public required long Length { get; init; }

    /// <summary>The plaintext SHA-256; empty while a <see cref="Partial"/> upload's copy is still being encrypted.</summary>
    [JsonPropertyName("plaintextSha256")]
    public required string PlaintextSha256 { get; init; }

    /// <summary>
    /// Sent as a tus concatenation partial upload while the staged copy was still being encrypted; a final upload that
    /// declares <see cref="PlaintextSha256"/> completes it.
    /// </summary>
    [JsonPropertyName("partial")]
    public bool Partial { get; init; }

    /// <summary>Plaintext size, when known (null for pre-encrypted files).</summary>
    [JsonPropertyName("plaintextSize")]
    public long? PlaintextSize { get; init; }

    /// <summary>The upload's URL once created.</summary>
    [JsonPropertyName("location")]
    public string? Location { get; init; }

    [JsonPropertyName("expires")]
    public DateTimeOffset? Expires { get; init; }

    [JsonPropertyName("updatedAt")]
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>
/// <c>$SPE_CONFIG_DIR/uploads/&lt;key&gt;.json</c>: one state file per (server, project, dataset, source path), so that the
/// same command run again finds it. Written like the credential store: 0700 directory, 0600 file, temporary name and rename.
/// A lock file per key keeps two <c>spe upload</c> processes off the same upload.
/// </summary>
internal sealed class UploadStateStore(string directory)
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string Directory { get; } = System.IO.Path.GetFullPath(directory);

    /// <summary>The store under the CLI's config directory.</summary>
    public static UploadStateStore Open(ClientEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return new UploadStateStore(System.IO.Path.Combine(CredentialStore.ResolveDirectory(environment.Variables), "uploads"));
    }

    /// <summary>A stable file-name-safe key for one source file uploaded to one dataset of one project on one server.</summary>
    public static string KeyOf(string server, string project, string dataset, string source) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', server, project, dataset, source))))[..32];

    public string PathOf(string key) => System.IO.Path.Combine(Directory, key + ".json");

    /// <summary>The saved state, or null when there is none or it cannot be used (then the upload starts over).</summary>
    public UploadState? Load(string key)
    {
        try
        {
            var state = JsonSerializer.Deserialize<UploadState>(File.ReadAllBytes(PathOf(key)), Json);
            return state is { Version: UploadState.CurrentVersion } ? state : null;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null;
        }
    }

    public void Save(string key, UploadState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        EnsureDirectory();
        var temporary = System.IO.Path.Combine(Directory, $".{key}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnlyFile };
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(JsonSerializer.SerializeToUtf8Bytes(state, Json));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, PathOf(key), overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public void Delete(string key)
    {
        File.Delete(PathOf(key));
        File.Delete(System.IO.Path.Combine(Directory, key + ".lock"));
    }

    /// <summary>Takes the per-upload lock (an flock, released when disposed or when the process dies); fails at once if another process holds it.</summary>
    public IDisposable Lock(string key)
    {
        EnsureDirectory();
        var path = System.IO.Path.Combine(Directory, key + ".lock");
        try
        {
            // Note: the lock file is removed only with the state, after success; a second process racing that moment could
            // lock the unlinked file, and would then find no state and start a new upload, which is harmless.
            return new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = OwnerOnlyFile,
            });
        }
        catch (IOException ex)
        {
            throw new SpeClientException("another 'spe upload' is uploading this file to this dataset right now; wait for it to finish", ex);
        }
    }

    private void EnsureDirectory()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.CreateDirectory(Directory, OwnerOnlyDirectory);
        }
    }
}
