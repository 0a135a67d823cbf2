using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Federation;

/// <summary>The federation module's log events (SPE21001–SPE21099).</summary>
internal static partial class FederationLog
{
    [LoggerMessage(EventId = 21001, Level = LogLevel.Information, Message = "SPE21001 federation listener on {Address} as node {Node}")]
    public static partial void Listening(ILogger logger, string address, string node);

    [LoggerMessage(EventId = 21002, Level = LogLevel.Warning, Message = "SPE21002 federation peer {Peer} from {Address} refused: {Reason}")]
    public static partial void PeerRefused(ILogger logger, string peer, string? address, string reason);

    [LoggerMessage(EventId = 21003, Level = LogLevel.Error, Message = "SPE21003 security alert: federation peer {Peer} refused {Count} times within {Window}")]
    public static partial void RepeatedRefusals(ILogger logger, string peer, int count, TimeSpan window);

    [LoggerMessage(EventId = 21004, Level = LogLevel.Error, Message = "SPE21004 the federation revocation list {Path} cannot be used ({Reason}); every peer is refused until it can")]
    public static partial void CrlUnusable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 21005, Level = LogLevel.Information, Message = "SPE21005 federation revocation list {Path} loaded: number {Number}, {Revoked} revoked")]
    public static partial void CrlLoaded(ILogger logger, string path, string number, int revoked);

    [LoggerMessage(EventId = 21006, Level = LogLevel.Information, Message = "SPE21006 federation call {Method} from {Peer}: {Status}")]
    public static partial void Call(ILogger logger, string method, string peer, string status);

    [LoggerMessage(EventId = 21007, Level = LogLevel.Error, Message = "SPE21007 federated task {TaskId} ({Component}) failed")]
    public static partial void TaskFailed(ILogger logger, Exception exception, string taskId, string component);

    [LoggerMessage(EventId = 21008, Level = LogLevel.Error, Message = "SPE21008 a federation audit record could not be written")]
    public static partial void AuditFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 21028, Level = LogLevel.Error,
        Message = "SPE21028 the federation revocation list {Path} is refused: its number {Number} is lower than {Highest}, the highest this node has accepted (rolled back); every peer is refused until a list at least that new is in place")]
    public static partial void CrlRolledBack(ILogger logger, string path, string number, string highest);

    [LoggerMessage(EventId = 21029, Level = LogLevel.Warning,
        Message = "SPE21029 the keys of trusted permit issuer {Issuer} could not be fetched from {Url} ({Reason}); its permits signed with a key not cached here are refused")]
    public static partial void IssuerKeysFetchFailed(ILogger logger, string issuer, string url, string reason);

    [LoggerMessage(EventId = 21022, Level = LogLevel.Error, Message = "SPE21022 federated components cannot run at this node: {Reason}")]
    public static partial void SandboxUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 21023, Level = LogLevel.Error, Message = "SPE21023 the sandbox of a federated component for project {ProjectId} could not be started")]
    public static partial void SandboxStartFailed(ILogger logger, Exception exception, string projectId);

    [LoggerMessage(EventId = 21024, Level = LogLevel.Warning, Message = "SPE21024 the answer of federated component {Component} for project {ProjectId} was refused: {Problem}")]
    public static partial void ComponentOutputRefused(ILogger logger, string component, string projectId, string problem);

    [LoggerMessage(EventId = 21025, Level = LogLevel.Error, Message = "SPE21025 the federated components' runner at {Directory} does not match the build's manifest ({Problem}); it is not run")]
    public static partial void RunnerChanged(ILogger logger, string directory, string problem);

    [LoggerMessage(EventId = 21021, Level = LogLevel.Information, Message = "SPE21021 federated analysis {Component} for project {ProjectId} over {Nodes} nodes: {Outcome}")]
    public static partial void Coordinated(ILogger logger, string component, string projectId, int nodes, string outcome);

    [LoggerMessage(EventId = 21026, Level = LogLevel.Warning, Message = "SPE21026 the channel to federation peer {Peer} was closed: the certificate it presented is no longer admitted ({Reason})")]
    public static partial void PeerChannelClosed(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 21027, Level = LogLevel.Warning, Message = "SPE21027 the {Method} stream of federation peer {Peer} was cut: its certificate is no longer admitted ({Reason})")]
    public static partial void StreamCut(ILogger logger, string method, string peer, string reason);
}
