namespace OpenSpe.Cli.Transfers;

/// <summary>Where <c>spe upload</c> keeps its staged ciphertext: the user's cache directory, never the config directory.</summary>
internal static class TransferPaths
{
    public const string CacheDirectoryVariable = "SPE_CACHE_DIR";

    /// <summary><c>$SPE_CACHE_DIR</c>, else <c>$XDG_CACHE_HOME/spe</c>, else <c>~/.cache/spe</c>; staged files go in its <c>uploads</c> subdirectory.</summary>
    public static string ResolveCacheDirectory(Func<string, string?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        if (variables(CacheDirectoryVariable) is { Length: > 0 } explicitDirectory)
        {
            return Path.GetFullPath(explicitDirectory);
        }

        // As for XDG_CONFIG_HOME, a relative XDG_CACHE_HOME is invalid and ignored.
        if (variables("XDG_CACHE_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "spe");
        }

        var home = variables("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home))
        {
            throw new Client.SpeClientException($"cannot find a cache directory for the encrypted copy: set {CacheDirectoryVariable} or HOME");
        }

        return Path.Combine(home, ".cache", "spe");
    }

    /// <summary>The staged ciphertext of an upload (by its state key).</summary>
    public static string StagedFile(string cacheDirectory, string key) => Path.Combine(cacheDirectory, "uploads", key + ".c4gh");
}
