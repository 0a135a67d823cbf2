using System.Text.RegularExpressions;

namespace OpenSpe.Server.UnitTests.Api;

/// <summary>The repository's own files (docs and sources), found from the test binary by walking up to the solution.</summary>
internal static partial class RepositoryDocs
{
    public static string Root { get; } = FindRoot();

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));

    /// <summary>Every C# source file under <c>src/</c> with its text (generated and build output left out).</summary>
    public static IEnumerable<(string Path, string Text)> Sources() =>
        Directory.EnumerateFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(p => (Path.GetRelativePath(Root, p), File.ReadAllText(p)));

    /// <summary>The rows of docs/errors.md's tables whose first cell is an <c>SPE</c> number: number, second cell, third cell.</summary>
    public static IReadOnlyList<(string Code, string Second, string Meaning)> ErrorDocRows() =>
        Read("docs/errors.md").Split('\n').Select(l => Row().Match(l)).Where(m => m.Success)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value.Trim(), m.Groups[3].Value.Trim())).ToList();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OpenSpe.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("OpenSpe.slnx not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^\| (SPE\d+) \|([^|]*)\|(.*)\|\s*$")]
    private static partial Regex Row();
}
