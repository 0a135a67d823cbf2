using System.Security.Cryptography;
using System.Text;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The federated components' runner as the build made it: the SHA-256 of every file of <c>federation-runner/</c>, written by the
/// server's build (target <c>IncludeFederationRunner</c> in <c>OpenSpe.Server.csproj</c>) into the server assembly as a resource,
/// one <c>HEX  relative/path</c> line per file. <see cref="FederatedComponentSandbox"/> checks the directory against it before each
/// start of the runner in a sandbox.
/// </summary>
/// <remarks>
/// Note: the manifest is inside the server's own assembly, not beside the runner, because whoever can change a runner file on disk
/// could change a manifest file next to it as well.
/// </remarks>
internal sealed class RunnerManifest
{
    /// <summary>The resource's name in the server assembly.</summary>
    public const string ResourceName = "OpenSpe.Server.Federation.federation-runner.sha256";

    private readonly Dictionary<string, string> _sums;

    private RunnerManifest(Dictionary<string, string> sums) => _sums = sums;

    /// <summary>How many files the build wrote down.</summary>
    public int Count => _sums.Count;

    /// <summary>
    /// The runner's content as one SHA-256 (lower-case hex): of the manifest in a canonical form, one <c>HEX  path</c> line per file
    /// (lower-case hex, two spaces, the relative path, <c>\n</c>) in ordinal order of the paths. Two runners have the same digest
    /// exactly when they have the same files with the same contents, whatever order the build listed them in.
    /// </summary>
    /// <remarks>
    /// Note: canonical rather than the resource's own bytes, because the build writes the lines in the order its file glob met
    /// them, which the file system decides; the identity a permit pins must not change with that.
    /// </remarks>
    public string Sha256
    {
        get
        {
            var canonical = new StringBuilder();
            foreach (var (path, hex) in _sums.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                canonical.Append(hex).Append("  ").Append(path).Append('\n');
            }

            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
        }
    }

    /// <summary>The manifest in the server assembly, or null when the build put none there.</summary>
    public static RunnerManifest? Embedded()
    {
        using var stream = typeof(RunnerManifest).Assembly.GetManifestResourceStream(ResourceName);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }

    /// <summary>Reads the build's lines; a line not of the form <c>HEX  path</c> makes the whole manifest unusable (null).</summary>
    public static RunnerManifest? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sums = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var hex = space == 64 ? line[..64].ToLowerInvariant() : "";
            var path = space < 0 ? "" : line[(space + 1)..].Trim().Replace('\\', '/');
            if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit) || path.Length == 0 || path.StartsWith('/') || path.Split('/').Any(s => s is "" or "." or "..")
                || !sums.TryAdd(path, hex))
            {
                return null;
            }
        }

        return sums.Count == 0 ? null : new RunnerManifest(sums);
    }

    /// <summary>
    /// Compares <paramref name="directory"/> with the manifest: null when every file is there with its sum and nothing else is;
    /// otherwise the first difference, for the operator's log.
    /// </summary>
    public string? Verify(string directory)
    {
        var seen = 0;
        foreach (var file in Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(directory, file).Replace('\\', '/');
            var info = new FileInfo(file);
            if (info.LinkTarget is not null)
            {
                return $"{relative} is a symbolic link, which the build never makes";
            }

            if (Directory.Exists(file))
            {
                continue;
            }

            if (!_sums.TryGetValue(relative, out var expected))
            {
                return $"{relative} is not a file of the build";
            }

            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            {
                if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(stream)), expected, StringComparison.Ordinal))
                {
                    return $"{relative} was changed after the build (its SHA-256 differs)";
                }
            }

            seen++;
        }

        return seen == _sums.Count ? null : $"{_sums.Count - seen} file(s) of the build are missing";
    }
}
