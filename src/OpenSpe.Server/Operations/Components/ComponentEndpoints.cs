using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using OpenSpe.Server.Api;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Operations.Components;

/// <summary>
/// <c>GET /api/v1/operations/components</c> (OPR-3, OPR-4, OPR-28, OPR-29): the inventory an operator keeps and an auditor
/// checks — the build, the runtime, the NuGet packages of the SBOM made at build, the system components with their versions,
/// what NuGet audit reported, and the built-in federated components with the version and SHA-256 a permit must approve for this SPE
/// to run them (FCR-4). Operators, auditors and HDAB officers only (it tells an attacker what to aim at; the HDAB copies the
/// federated runner's identity from it into the permits it issues).
/// </summary>
internal static class ComponentEndpoints
{
    /// <summary>Maps the inventory endpoint.</summary>
    public static IEndpointRouteBuilder MapComponentEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/operations/components", InventoryAsync).WithName("operations.components").WithTags("Operations")
            .RequireAuthorization(SpePolicies.ComponentReaders).WithMetadata(new AuditResourceAttribute("components")).ProducesSignedInProblems()
            .WithSummary("The component inventory: SPE build, .NET runtime, NuGet packages (CycloneDX SBOM made at build), system components, NuGet audit at build.");
        return routes;
    }

    private static async Task<Ok<ComponentInventoryView>> InventoryAsync(SystemComponentProbe probe, IOptions<FederationOptions> federation, CancellationToken cancellationToken) =>
        TypedResults.Ok(Inventory(SbomDocument.Embedded, await probe.ProbeAsync(cancellationToken), Federated(federation.Value)));

    /// <summary>The built-in federated components with this build's runner identity, and whether this SPE's operator allows each.</summary>
    public static IReadOnlyList<FederatedComponentView> Federated(FederationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return FederatedComponentIdentity.Runner is { } identity
            ? [.. FederatedComponentIdentity.BuiltIn.Select(c => new FederatedComponentView(c, identity.Version, identity.Sha256, options.AllowedComponents.Contains(c, StringComparer.Ordinal)))]
            : [];
    }

    /// <summary>The inventory from an SBOM, the probed system components and the federated components.</summary>
    public static ComponentInventoryView Inventory(SbomDocument sbom, IReadOnlyList<SystemComponentView> system, IReadOnlyList<FederatedComponentView>? federated = null)
    {
        ArgumentNullException.ThrowIfNull(sbom);
        var (version, commit) = BuildVersion.Split(typeof(ComponentEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown");
        var spe = new SpeBuildView(version, commit);
        var enabled = string.Equals(sbom.Properties.GetValueOrDefault("openspe:nugetAudit"), "true", StringComparison.OrdinalIgnoreCase);
        var findings = string.Equals(sbom.Properties.GetValueOrDefault("openspe:nugetAuditFindings"), "true", StringComparison.OrdinalIgnoreCase);
        var audit = new PackageAuditView(enabled, sbom.Properties.GetValueOrDefault("openspe:nugetAuditMode") ?? "unknown", findings,
            findings
                ? "The restore reported a package with a known vulnerability (NU1901-NU1904); the flagged packages name their advisories. Update them."
                : enabled
                    ? "No package had a known vulnerability when this build restored; advisories published since are not known here (rebuild to re-check)."
                    : "NuGet audit did not run for this build: vulnerabilities are not known.");
        // Note: a package the audit named is flagged with its advisories. A finding the build saw but could not attribute marks
        // every package as suspect rather than none: an auditor must not read "no flag" as "checked clean".
        var unattributed = findings && sbom.Vulnerabilities.Count == 0;
        var packages = sbom.Packages.Select(p =>
        {
            var advisories = sbom.Vulnerabilities.Where(v => string.Equals(v.Ref, p.Purl, StringComparison.OrdinalIgnoreCase))
                .Select(v => new PackageAdvisoryView(v.Advisory, v.Severity)).ToList();
            return new PackageComponentView(p.Name, p.Version, p.Purl, unattributed || advisories.Count > 0, advisories.Count > 0 ? advisories : null);
        }).ToList();
        return new(spe, new RuntimeView(RuntimeInformation.FrameworkDescription, Environment.Version.ToString(), RuntimeInformation.OSDescription),
            new SbomView("CycloneDX " + sbom.SpecVersion, sbom.Tool, packages.Count), audit, packages, system, federated ?? []);
    }
}
