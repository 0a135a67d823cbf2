using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Cli.Client;

/// <summary>What <c>spe login</c> keeps between verbs.</summary>
/// <param name="Server">Server base address.</param>
/// <param name="CaFingerprint">Pinned certificate SHA-256, or null when the system trust store verifies the server.</param>
/// <param name="Username">Who signed in, for display.</param>
/// <param name="AccessToken">Current bearer token.</param>
/// <param name="AccessTokenExpiresAt">When <paramref name="AccessToken"/> expires.</param>
/// <param name="RefreshToken">Current refresh token (rotated on every use), or null.</param>
internal sealed record StoredCredentials(
    [property: JsonPropertyName("server")] string Server,
    [property: JsonPropertyName("caFingerprint")] string? CaFingerprint,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("accessToken")] string AccessToken,
    [property: JsonPropertyName("accessTokenExpiresAt")] DateTimeOffset AccessTokenExpiresAt,
    [property: JsonPropertyName("refreshToken")] string? RefreshToken)
{
    [JsonIgnore]
    public Uri ServerUri => new(Server);

    // Note: tokens stay out of ToString so a stray log line or exception message cannot leak them.
    public override string ToString() => $"StoredCredentials {{ Server = {Server}, Username = {Username}, AccessTokenExpiresAt = {AccessTokenExpiresAt:O} }}";
}

/// <summary>
/// <c>credentials.json</c> in the user's config directory: <c>$SPE_CONFIG_DIR</c>, else
/// <c>$XDG_CONFIG_HOME/spe</c>, else <c>~/.config/spe</c>. The directory is 0700 and the file 0600,
/// written to a temporary name and renamed, so a crash or a concurrent reader never sees half a token.
/// </summary>
internal sealed class CredentialStore(string directory)
{
    public const string FileName = "credentials.json";
    public const string ConfigDirectoryVariable = "SPE_CONFIG_DIR";

    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string Directory { get; } = System.IO.Path.GetFullPath(directory);

    public string Path => System.IO.Path.Combine(Directory, FileName);

    /// <summary>Resolves the config directory from the environment (<paramref name="variables"/> reads one variable).</summary>
    public static string ResolveDirectory(Func<string, string?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        if (variables(ConfigDirectoryVariable) is { Length: > 0 } explicitDirectory)
        {
            return System.IO.Path.GetFullPath(explicitDirectory);
        }

        // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
        if (variables("XDG_CONFIG_HOME") is { Length: > 0 } xdg && System.IO.Path.IsPathRooted(xdg))
        {
            return System.IO.Path.Combine(xdg, "spe");
        }

        var home = variables("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home))
        {
            throw new SpeClientException($"cannot find a config directory: set {ConfigDirectoryVariable} or HOME");
        }

        return System.IO.Path.Combine(home, ".config", "spe");
    }

    /// <summary>The stored credentials, or null when nobody is signed in.</summary>
    public StoredCredentials? Load()
    {
        string text;
        try
        {
            // Like ssh with private keys: a token file others can read may already have leaked, so refuse it rather than fix it quietly.
            if ((File.GetUnixFileMode(Path) & GroupOrOther) != 0)
            {
                throw new SpeClientException($"{Path} is readable by other users; its tokens may have leaked. Run 'spe logout' or delete it, then 'spe login' again");
            }

            text = File.ReadAllText(Path, Encoding.UTF8);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            var credentials = JsonSerializer.Deserialize<StoredCredentials>(text, Json);
            return credentials is { Server.Length: > 0, AccessToken.Length: > 0 } && Uri.TryCreate(credentials.Server, UriKind.Absolute, out _)
                ? credentials
                : throw new SpeClientException($"{Path} is incomplete; run 'spe login' again");
        }
        catch (JsonException ex)
        {
            throw new SpeClientException($"{Path} is not valid credentials JSON; run 'spe login' again", ex);
        }
    }

    /// <summary>Replaces the stored credentials atomically.</summary>
    public void Save(StoredCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        EnsureDirectory();

        // A unique temporary name: two spe processes refreshing at once must not write into the same file.
        var temporary = System.IO.Path.Combine(Directory, $".{FileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.WriteThrough, UnixCreateMode = OwnerOnlyFile };
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(JsonSerializer.SerializeToUtf8Bytes(credentials, Json));
                stream.Flush(flushToDisk: true);
            }

            // The umask can only remove bits, but set the mode explicitly so the file never depends on it.
            File.SetUnixFileMode(temporary, OwnerOnlyFile);
            File.Move(temporary, Path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Removes the stored credentials; false when there were none.</summary>
    public bool Delete()
    {
        if (!File.Exists(Path))
        {
            return false;
        }

        File.Delete(Path);
        return true;
    }

    /// <summary>
    /// Takes the refresh lock. Refresh tokens rotate, so two spe processes refreshing with the same
    /// token would make the server reject one (or treat it as replay); the second one waits and then
    /// reads what the first stored.
    /// </summary>
    public async Task<IDisposable> LockAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        EnsureDirectory();
        var path = System.IO.Path.Combine(Directory, FileName + ".lock");
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive flock(2) on Linux, released when the stream is disposed or the process dies.
                return new FileStream(path, new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None, UnixCreateMode = OwnerOnlyFile });
            }
            catch (IOException) when (DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken);
            }
            catch (IOException ex)
            {
                throw new SpeClientException($"another spe process holds {path}; try again", ex);
            }
        }
    }

    private void EnsureDirectory()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.CreateDirectory(Directory, OwnerOnlyDirectory);
        }

        // Tighten a directory created earlier with a looser mode (e.g. by mkdir with the default umask).
        if ((File.GetUnixFileMode(Directory) & GroupOrOther) != 0)
        {
            File.SetUnixFileMode(Directory, OwnerOnlyDirectory);
        }
    }
}
