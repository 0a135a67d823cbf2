namespace OpenSpe.Core.Identity;

/// <summary>The SPE's account roles (see docs/separation-of-duties.md). These names are part of the API: never rename.</summary>
public static class SpeRoles
{
    /// <summary>Health Data Access Body officer.</summary>
    public const string Hdab = "hdab";

    /// <summary>Reviews airlock requests.</summary>
    public const string OutputChecker = "output-checker";

    /// <summary>Uploads permitted datasets.</summary>
    public const string DataHolder = "data-holder";

    /// <summary>Data user named in a permit.</summary>
    public const string Researcher = "researcher";

    /// <summary>Runs the service; never sees project data.</summary>
    public const string Operator = "operator";

    /// <summary>Reads and verifies audit logs; changes nothing.</summary>
    public const string Auditor = "auditor";

    /// <summary>Manages accounts; never sees project data.</summary>
    public const string Admin = "admin";

    /// <summary>Every role.</summary>
    public static IReadOnlyList<string> All { get; } = [Hdab, OutputChecker, DataHolder, Researcher, Operator, Auditor, Admin];

    /// <summary>
    /// The oversight roles: they see every permit and the metadata of every project, never its data (SDR-2). The one list
    /// the access chain, permit visibility and the project listing use.
    /// </summary>
    public static IReadOnlyList<string> Oversight { get; } = [Hdab, Operator, Auditor];
}
