using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenSpe.Core.Access;
using OpenSpe.Core.Desktop;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Desktop;

/// <summary>What the permit says about desktops: whether they are allowed, the clipboard, the idle timeout.</summary>
/// <param name="Allowed">The permit's <c>policies.workspaceKinds</c> names the kind (<c>desktop</c>, <c>terminal</c>).</param>
/// <param name="Rfb">The clipboard policy for the RFB filter (<c>policies.clipboard</c>; default none).</param>
/// <param name="IdleTimeout">The idle timeout (<c>policies.idleTimeoutMinutes</c>; default 15 minutes).</param>
internal sealed record DesktopPermitPolicy(bool Allowed, RfbPolicy Rfb, TimeSpan IdleTimeout);

/// <summary>The desktop's checks after the access chain admitted the caller: the permit allows desktops, and this server can run them.</summary>
internal sealed class DesktopPolicies(PermitService permits, DesktopHosts hosts)
{
    /// <summary>The permit's policy for a session of <paramref name="kind"/> (<c>desktop</c> unless named: the terminal shares the rules).</summary>
    public async Task<DesktopPermitPolicy> ReadAsync(ProjectPermit permit, CancellationToken cancellationToken, string kind = DesktopEndpoints.WorkspaceKind)
    {
        var document = await permits.CurrentDocumentAsync(permit, cancellationToken);
        var policies = document.Policies;
        // Note: a permit silent on a policy gets the most restrictive default: no desktop, no clipboard, 15 minutes (TIR-24, TIR-25).
        return new DesktopPermitPolicy(
            policies?.WorkspaceKinds?.Contains(kind, StringComparer.Ordinal) == true,
            RfbPolicy.ForClipboardMode(policies?.Clipboard),
            TimeSpan.FromMinutes(policies?.IdleTimeoutMinutes is > 0 and var minutes ? minutes : 15));
    }

    /// <summary>
    /// The current policy of <paramref name="projectId"/>'s permit for a session of <paramref name="kind"/>; with no permit, nothing is
    /// allowed (the reaper's re-check of open sessions).
    /// </summary>
    public async Task<DesktopPermitPolicy> ReadAsync(string projectId, string kind, CancellationToken cancellationToken)
    {
        var permit = await permits.FindByProjectAsync(projectId, cancellationToken);
        if (permit is null)
        {
            return new DesktopPermitPolicy(false, RfbPolicy.ForClipboardMode(null), TimeSpan.FromMinutes(15));
        }

        var policies = (await permits.CurrentDocumentAsync(permit, cancellationToken)).Policies;
        return new DesktopPermitPolicy(
            policies?.WorkspaceKinds?.Contains(kind, StringComparer.Ordinal) == true,
            RfbPolicy.ForClipboardMode(policies?.Clipboard),
            TimeSpan.FromMinutes(policies?.IdleTimeoutMinutes is > 0 and var minutes ? minutes : 15));
    }

    /// <summary>A refusal when the permit does not allow desktops or none can run here; null to go on.</summary>
    public async Task<ProblemHttpResult?> RefuseAsync(HttpContext context, ProjectAccess access)
    {
        var policy = await ReadAsync(access.Permit, context.RequestAborted);
        if (!policy.Allowed)
        {
            AuditDenialReason.Set(context, "workspace-kind-not-allowed");
            return Problems.Of(StatusCodes.Status403Forbidden, "The project's permit does not allow desktops (policies.workspaceKinds has no 'desktop').",
                ErrorCodes.DesktopNotAllowed);
        }

        if (hosts.Availability is { IsAvailable: false } unavailable)
        {
            AuditDenialReason.Set(context, "desktop-unavailable");
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, $"Desktops cannot run on this server: {unavailable.Reason}.", ErrorCodes.DesktopUnavailable);
        }

        return null;
    }
}
