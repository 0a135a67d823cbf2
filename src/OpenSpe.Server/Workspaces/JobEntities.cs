namespace OpenSpe.Server.Workspaces;

/// <summary>Row of <c>jobs</c>: a code-to-data job of a project (FCR-3). Its output is not here: it is project data, kept in the project's space.</summary>
internal sealed class JobEntity
{
    /// <summary>Job id.</summary>
    public string Id { get; set; } = "";

    /// <summary>The project it runs in.</summary>
    public string ProjectId { get; set; } = "";

    /// <summary>Account id of who submitted it (the access chain's key for a person).</summary>
    public string SubmittedBy { get; set; } = "";

    /// <summary>User name of who submitted it (the sandbox's member, <c>/home/&lt;name&gt;</c>).</summary>
    public string SubmittedByName { get; set; } = "";

    /// <summary>The command as shown (JSON array of strings); for a component its path in the sandbox and its arguments.</summary>
    public string CommandJson { get; set; } = "[]";

    /// <summary>The approved component's name, or null for a command.</summary>
    public string? Component { get; set; }

    /// <summary>The approved component's version.</summary>
    public string? ComponentVersion { get; set; }

    /// <summary>The approved component's SHA-256 (as the permit names it, checked before it runs).</summary>
    public string? ComponentSha256 { get; set; }

    /// <summary>State (<see cref="JobStates"/>).</summary>
    public string State { get; set; } = JobStates.Queued;

    /// <summary>Exit code once ended.</summary>
    public int? ExitCode { get; set; }

    /// <summary>Why the SPE ended it, or null when it ended by itself.</summary>
    public string? EndReason { get; set; }

    /// <summary>When it was submitted.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it started running.</summary>
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>When it ended.</summary>
    public DateTimeOffset? EndedAt { get; set; }
}
