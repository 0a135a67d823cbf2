using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>Log events of the workspace runtime (16500–16999). Never data, never plaintext file names.</summary>
[SupportedOSPlatform("linux")]
internal static partial class Log
{
    [LoggerMessage(EventId = 16500, Level = LogLevel.Information, Message = "SPE16500 sandbox {Sandbox} started for project {ProjectId}, member {Member}")]
    public static partial void SandboxStarted(ILogger logger, string sandbox, string projectId, string member);

    [LoggerMessage(EventId = 16501, Level = LogLevel.Information, Message = "SPE16501 sandbox {Sandbox} ended with exit code {ExitCode} (stopped by {StoppedBy}, limit hit {LimitHit})")]
    public static partial void SandboxEnded(ILogger logger, string sandbox, int exitCode, string stoppedBy, bool limitHit);

    [LoggerMessage(EventId = 16502, Level = LogLevel.Information, Message = "SPE16502 stopping sandbox {Sandbox}: {Reason}")]
    public static partial void SandboxStopping(ILogger logger, string sandbox, WorkspaceStopReason reason);

    [LoggerMessage(EventId = 16503, Level = LogLevel.Warning, Message = "SPE16503 stopped {Count} sandboxes of project {ProjectId} and removed its plaintext: {Reason}")]
    public static partial void ProjectStopped(ILogger logger, int count, string projectId, WorkspaceStopReason reason);

    [LoggerMessage(EventId = 16504, Level = LogLevel.Error, Message = "SPE16504 sandbox for project {ProjectId} could not start ({ErrorType})")]
    public static partial void StartFailed(ILogger logger, string projectId, string errorType, Exception exception);

    [LoggerMessage(EventId = 16505, Level = LogLevel.Information, Message = "SPE16505 sandbox limits through cgroup v1 controllers {Controllers} with prlimit as the floor")]
    public static partial void CgroupsInUse(ILogger logger, string controllers);

    [LoggerMessage(EventId = 16506, Level = LogLevel.Warning, Message = "SPE16506 no writable cgroup controller: sandbox limits through prlimit only (memory as address space, no CPU share)")]
    public static partial void PrlimitOnly(ILogger logger);

    [LoggerMessage(EventId = 16507, Level = LogLevel.Information, Message = "SPE16507 plaintext staged in memory for project {ProjectId}")]
    public static partial void PlaintextStaged(ILogger logger, string projectId);

    [LoggerMessage(EventId = 16508, Level = LogLevel.Information, Message = "SPE16508 plaintext removed for project {ProjectId}")]
    public static partial void PlaintextRemoved(ILogger logger, string projectId);

    [LoggerMessage(EventId = 16509, Level = LogLevel.Warning, Message = "SPE16509 workspace tools configured but not installed: {Tools} (run deploy/install-workspace-tools.sh)")]
    public static partial void ToolsMissing(ILogger logger, string tools);

    [LoggerMessage(EventId = 16510, Level = LogLevel.Warning, Message = "SPE16510 sandbox cleanup of {Sandbox} left something behind ({ErrorType})")]
    public static partial void CleanupFailed(ILogger logger, string sandbox, string errorType);

    [LoggerMessage(EventId = 16511, Level = LogLevel.Warning, Message = "SPE16511 removed leftovers of an earlier run: {Plaintexts} plaintext directories, {Runs} run directories, {Cgroups} sandbox cgroups")]
    public static partial void LeftoversRemoved(ILogger logger, int plaintexts, int runs, int cgroups);

    [LoggerMessage(EventId = 16512, Level = LogLevel.Warning, Message = "SPE16512 plaintext of {Count} datasets withdrawn from project {ProjectId} removed")]
    public static partial void PlaintextDatasetsWithdrawn(ILogger logger, string projectId, int count);
}
