using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Access;

/// <summary>One request for project access, transport-neutral: the HTTP gate, and later the workspace gateway, the airlock and the federation interceptor build it.</summary>
/// <param name="Principal">Who asks.</param>
/// <param name="ProjectId">The project.</param>
/// <param name="Action">The action the operation declares; null when it declares none (refused: fail closed).</param>
/// <param name="DatasetId">The dataset a dataset-scoped action acts on, or null.</param>
/// <param name="Transfer">The file a transfer moves, or null.</param>
public sealed record AccessRequest(AccessPrincipal Principal, string ProjectId, ProjectAction? Action, string? DatasetId = null, FileTransfer? Transfer = null);

/// <summary>A file crossing the project boundary.</summary>
/// <param name="Direction">Which way.</param>
/// <param name="FileType">Its lower-case extension without the dot; null for a name without one.</param>
public sealed record FileTransfer(TransferDirection Direction, string? FileType);
