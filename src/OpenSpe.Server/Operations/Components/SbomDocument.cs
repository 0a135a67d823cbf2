using System.Text.Json;

namespace OpenSpe.Server.Operations.Components;

/// <summary>The CycloneDX SBOM embedded at build (<c>Sbom.targets</c>), read once.</summary>
internal sealed class SbomDocument
{
    private const string ResourceName = "OpenSpe.Server.sbom.cdx.json";

    private SbomDocument(string specVersion, string tool, IReadOnlyList<(string Name, string Version, string Purl)> packages, IReadOnlyDictionary<string, string> properties,
        IReadOnlyList<(string Ref, string Advisory, string Severity)> vulnerabilities)
    {
        SpecVersion = specVersion;
        Tool = tool;
        Packages = packages;
        Properties = properties;
        Vulnerabilities = vulnerabilities;
    }

    /// <summary>The server's SBOM, or an empty one when the assembly carries none (a build without the step).</summary>
    public static SbomDocument Embedded { get; } = Load();

    /// <summary>The CycloneDX spec version.</summary>
    public string SpecVersion { get; }

    /// <summary>The tool that generated it.</summary>
    public string Tool { get; }

    /// <summary>The packages, by name.</summary>
    public IReadOnlyList<(string Name, string Version, string Purl)> Packages { get; }

    /// <summary>The metadata properties (<c>openspe:nugetAudit</c>, <c>openspe:nugetAuditMode</c>, <c>openspe:nugetAuditFindings</c>).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; }

    /// <summary>The known vulnerabilities NuGet audit named at build: the affected package's reference (its purl), the advisory, the severity.</summary>
    public IReadOnlyList<(string Ref, string Advisory, string Severity)> Vulnerabilities { get; }

    /// <summary>Parses a CycloneDX JSON document.</summary>
    public static SbomDocument Parse(Stream json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var metadata = root.GetProperty("metadata");
        var tool = metadata.TryGetProperty("tools", out var tools) && tools.TryGetProperty("components", out var toolComponents)
            ? string.Join(", ", toolComponents.EnumerateArray().Select(t => t.GetProperty("name").GetString()))
            : "unknown";
        var properties = metadata.TryGetProperty("properties", out var props)
            ? props.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("value").GetString() ?? "", StringComparer.Ordinal)
            : [];
        var packages = root.GetProperty("components").EnumerateArray()
            .Select(c => (Name: c.GetProperty("name").GetString()!, Version: c.GetProperty("version").GetString()!, Purl: c.GetProperty("purl").GetString()!))
            .OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
        var vulnerabilities = root.TryGetProperty("vulnerabilities", out var listed)
            ? listed.EnumerateArray().SelectMany(v => v.GetProperty("affects").EnumerateArray().Select(a => (
                Ref: a.GetProperty("ref").GetString()!,
                Advisory: v.GetProperty("id").GetString()!,
                Severity: v.TryGetProperty("ratings", out var ratings) && ratings.GetArrayLength() > 0 ? ratings[0].GetProperty("severity").GetString() ?? "unknown" : "unknown"))).ToList()
            : [];
        return new(root.GetProperty("specVersion").GetString()!, tool, packages, properties, vulnerabilities);
    }

    private static SbomDocument Load()
    {
        using var stream = typeof(SbomDocument).Assembly.GetManifestResourceStream(ResourceName);
        return stream is null ? new("none", "none", [], new Dictionary<string, string>(), []) : Parse(stream);
    }
}
