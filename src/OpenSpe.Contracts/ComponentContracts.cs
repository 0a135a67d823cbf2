namespace OpenSpe.Contracts;

/// <summary>
/// The SPE's component inventory (OPR-3, OPR-4, OPR-28, OPR-29): the build, the .NET runtime, the NuGet packages from the
/// CycloneDX SBOM generated at build, the system components found on the host, and what NuGet audit knew at build.
/// </summary>
/// <param name="Spe">The SPE build.</param>
/// <param name="Runtime">The .NET runtime it runs on.</param>
/// <param name="Sbom">Where the package list comes from.</param>
/// <param name="Audit">What the build's NuGet audit reported.</param>
/// <param name="Packages">The NuGet packages, by name.</param>
/// <param name="System">The system components the SPE uses, each with its version when found.</param>
/// <param name="Federated">
/// The built-in federated components with what this SPE runs for each (FCR-3, FCR-4): the identity a permit's
/// <c>approvedComponents</c> entry must carry; empty when the build has no runner manifest.
/// </param>
public sealed record ComponentInventoryView(SpeBuildView Spe, RuntimeView Runtime, SbomView Sbom, PackageAuditView Audit, IReadOnlyList<PackageComponentView> Packages,
    IReadOnlyList<SystemComponentView> System, IReadOnlyList<FederatedComponentView>? Federated = null);

/// <summary>
/// A built-in federated component as a permit's <c>approvedComponents</c> entry must name it for this SPE to run it: the SPE
/// build's version and the SHA-256 of the runner's content; <see cref="Allowed"/> when this SPE's operator allows it
/// (<c>Federation:AllowedComponents</c>).
/// </summary>
public sealed record FederatedComponentView(string Name, string Version, string Sha256, bool Allowed);

/// <summary>The SPE build: its version and, when the build knew it, the source commit.</summary>
public sealed record SpeBuildView(string Version, string? Commit);

/// <summary>The .NET runtime and the operating system.</summary>
public sealed record RuntimeView(string Framework, string Version, string OperatingSystem);

/// <summary>The SBOM's format and the tool that made it.</summary>
public sealed record SbomView(string Format, string Tool, int PackageCount);

/// <summary>
/// NuGet audit at build: whether it ran (<see cref="Enabled"/>, <see cref="Mode"/>) and whether the restore reported a
/// package with a known vulnerability (<see cref="FindingsAtBuild"/>; such a build fails unless a finding was suppressed).
/// </summary>
public sealed record PackageAuditView(bool Enabled, string Mode, bool FindingsAtBuild, string Note);

/// <summary>
/// One NuGet package; <see cref="KnownVulnerable"/> when the build's audit named it (<see cref="Advisories"/> say which
/// advisories), or when the audit reported a finding it did not attribute to a package (then every package is suspect).
/// </summary>
public sealed record PackageComponentView(string Name, string Version, string Purl, bool KnownVulnerable, IReadOnlyList<PackageAdvisoryView>? Advisories = null);

/// <summary>A known vulnerability NuGet audit reported for a package at build: the advisory's URL and its severity.</summary>
public sealed record PackageAdvisoryView(string Advisory, string Severity);

/// <summary>A system component (bubblewrap, TigerVNC, PostgreSQL, SQLite, SoftHSM2): its version when found, and how it was read.</summary>
public sealed record SystemComponentView(string Name, string? Version, bool Found, string Source);

/// <summary>The certificates the server presents, each with its expiry; <c>WarnDays</c> is the margin under which one is flagged.</summary>
public sealed record CertificateEvidenceView(int WarnDays, IReadOnlyList<CertificateView> Certificates);

/// <summary>
/// One certificate: <c>tls</c> (the API's) or <c>federation</c> (the node's), its subject, when it expires, the whole days
/// left (negative once expired) and whether fewer than the warning margin are left.
/// </summary>
public sealed record CertificateView(string Name, string Subject, DateTimeOffset NotAfter, long DaysLeft, bool ExpiringSoon);
