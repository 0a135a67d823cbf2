using System.Reflection;
using OpenSpe.Core.Permits;
using OpenSpe.Federation.Glm;
using OpenSpe.Federation.Omop;
using OpenSpe.Server.Federation.Learning;

namespace OpenSpe.Server.Federation;

/// <summary>
/// What a node runs for a built-in federated component (FCR-3, FCR-4), as a permit's <c>approvedComponents</c> entry names it: the
/// SPE build's version and the SHA-256 of the runner's content (<see cref="RunnerManifest.Sha256"/>). Every built-in component runs
/// in the one runner, so they share it. A node runs a component for a permit only when an entry of that name carries exactly this
/// version and SHA-256 (<see cref="FederatedTaskChecks"/>).
/// </summary>
/// <remarks>
/// Note: the SHA-256 is of the runner's manifest, not of one file, because the runner is many files (its assembly, the analyses
/// library, their dependencies) and every one of them is code that reads the rows; the manifest has the SHA-256 of each, and
/// <see cref="FederatedComponentSandbox"/> checks the files against it before each start (<c>SPE7058</c>), so the digest a permit
/// pins is the content that actually runs. The version is checked as well, because the entry is the HDAB's record of what it
/// approved: an entry with the right digest but another version misdescribes the build, and the release is the only name of the
/// server's own part of a component (the output checks, federated learning's noise), which the runner's digest does not cover (it
/// tells releases apart only as far as the build's version is raised).
/// </remarks>
/// <param name="Version">The SPE build's version, without the source commit (as <c>GET /api/v1/operations/components</c> shows it).</param>
/// <param name="Sha256">The runner's content digest (64 lower-case hex digits).</param>
internal sealed record FederatedComponentIdentity(string Version, string Sha256)
{
    /// <summary>The SPE build's version: the informational version without its <c>+commit</c> suffix.</summary>
    public static string BuildVersion { get; } =
        Operations.Components.BuildVersion.Split(typeof(FederatedComponentIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Version;

    private static readonly Lazy<FederatedComponentIdentity?> Built = new(() => RunnerManifest.Embedded() is { } manifest ? new(BuildVersion, manifest.Sha256) : null);

    /// <summary>The built-in federated components, by the names permits and <c>Federation:AllowedComponents</c> use.</summary>
    public static IReadOnlyList<string> BuiltIn { get; } =
        [.. new[] { RowCountAnalysis.Name, GlmNodeAnalysis.ComponentName, CohortCountNodeAnalysis.ComponentName, FedAvgComponent.ComponentName }.Order(StringComparer.Ordinal)];

    /// <summary>The identity of this build's runner, or null when the build embedded no runner manifest (then nothing runs).</summary>
    public static FederatedComponentIdentity? Runner => Built.Value;

    /// <summary>Whether <paramref name="entry"/> approves this identity: the same version and SHA-256 (its name is the caller's to check).</summary>
    public bool IsApprovedBy(PermitComponent entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return string.Equals(entry.Version, Version, StringComparison.Ordinal) && string.Equals(entry.Sha256, Sha256, StringComparison.Ordinal);
    }
}
