using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace OpenSpe.Server.Audit;

/// <summary>
/// A streaming endpoint's HTTP/1.1 upgrade (WebSockets): the opened record is written before the 101 goes out. The WebSocket
/// middleware takes the upgrade feature it finds when it runs, so it must run after the audit middleware.
/// </summary>
internal sealed class AuditedUpgradeFeature(IHttpUpgradeFeature inner, AuditedResponseStream audit) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public Task<Stream> UpgradeAsync() => audit.UpgradeAsync(StatusCodes.Status101SwitchingProtocols, inner.UpgradeAsync);
}

/// <summary>A streaming endpoint's HTTP/2 extended CONNECT (WebSockets over HTTP/2), audited as <see cref="AuditedUpgradeFeature"/>.</summary>
internal sealed class AuditedExtendedConnectFeature(IHttpExtendedConnectFeature inner, AuditedResponseStream audit) : IHttpExtendedConnectFeature
{
    public bool IsExtendedConnect => inner.IsExtendedConnect;

    public string? Protocol => inner.Protocol;

    public ValueTask<Stream> AcceptAsync() => new(audit.UpgradeAsync(StatusCodes.Status200OK, () => inner.AcceptAsync().AsTask()));
}
