using OpenSpe.Disclosure.Rules;

namespace OpenSpe.Disclosure.Files;

/// <summary>
/// The file-type check: the extension must be on the allow-list AND the content must be what the extension says
/// (a PNG is a PNG, a CSV is text); archives, executables and unknown binaries are refused whatever their name.
/// </summary>
public static class FileTypeRule
{
    /// <summary>The export allow-list used when none is given (the permit's <c>fileTypes.export</c> replaces it).</summary>
    public static IReadOnlyList<string> DefaultExportTypes { get; } = ["csv", "tsv", "txt", "md", "json", "png", "jpg", "jpeg", "gif", "svg", "pdf"];

    private static readonly Dictionary<string, ContentKind> Expected = new(StringComparer.Ordinal)
    {
        ["png"] = ContentKind.Png,
        ["jpg"] = ContentKind.Jpeg,
        ["jpeg"] = ContentKind.Jpeg,
        ["gif"] = ContentKind.Gif,
        ["webp"] = ContentKind.Webp,
        ["pdf"] = ContentKind.Pdf,
    };

    /// <summary>The file's extension, lower case without the dot, or null when it has none.</summary>
    public static string? Extension(string fileName)
    {
        var extension = Path.GetExtension(fileName);
        return extension.Length > 1 ? extension[1..].ToLowerInvariant() : null;
    }

    /// <summary>Findings for <paramref name="fileName"/> with <paramref name="kind"/> content under <paramref name="allowed"/>.</summary>
    public static IReadOnlyList<Finding> Check(string fileName, ContentKind kind, IReadOnlyCollection<string> allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        var findings = new List<Finding>();
        var extension = Extension(fileName);
        if (extension is null || !allowed.Contains(extension))
        {
            findings.Add(Findings.Fail("file-type.not-allowed", $"the file type '{extension ?? "(none)"}' is not on the allow-list ({string.Join(", ", allowed)}).", []));
        }

        switch (kind)
        {
            case ContentKind.Archive:
                findings.Add(Findings.Fail("file-type.archive", "the content is an archive, which could carry anything unchecked.", []));
                return findings;
            case ContentKind.Executable:
                findings.Add(Findings.Fail("file-type.executable", "the content is an executable.", []));
                return findings;
            case ContentKind.UnknownBinary:
                findings.Add(Findings.Fail("file-type.unknown-binary", "the content is binary of no recognised kind (text must be valid UTF-8 without NUL bytes).", []));
                return findings;
            default:
                break;
        }

        if (extension is not null)
        {
            var expected = Expected.TryGetValue(extension, out var k) ? k : ContentKind.Text;
            if (expected != kind)
            {
                findings.Add(Findings.Fail("file-type.mismatch", $"the name says '{extension}' but the content is {kind.ToString().ToLowerInvariant()}.", []));
            }
        }

        if (kind == ContentKind.Pdf)
        {
            // Note: a PDF's text streams are compressed and can embed files, so the identifier scan cannot read it.
            findings.Add(Findings.Review("file-type.unscannable", "a PDF cannot be scanned for identifiers; a person must read it.", []));
        }

        return findings;
    }
}
