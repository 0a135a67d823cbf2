using OpenSpe.Core.Identity;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Workspaces;

/// <summary>
/// The project actions of jobs. Only the permit's data users (researchers) run, read and cancel jobs: a job reads the
/// datasets' plaintext and its output is project data. Data holders, applications and the oversight roles (HDAB officers,
/// operators, auditors) get none of them (SDR-2; docs/separation-of-duties.md).
/// </summary>
internal static class JobActions
{
    /// <summary>Submit a job.</summary>
    public static readonly ProjectActionAttribute Run = new("project.jobs.run", SpeRoles.Researcher);

    /// <summary>List jobs, show one, read its log (the output is project data, so no oversight role).</summary>
    public static readonly ProjectActionAttribute Read = new("project.jobs.read", SpeRoles.Researcher);

    /// <summary>Cancel a job of the project (any data user of the project: the project is shared, SPER-5).</summary>
    public static readonly ProjectActionAttribute Cancel = new("project.jobs.cancel", SpeRoles.Researcher);

    /// <summary>The workspace kind a permit's <c>policies.workspaceKinds</c> must name for jobs.</summary>
    public const string WorkspaceKind = "job";
}
