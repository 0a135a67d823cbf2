namespace OpenSpe.Server.Identity;

/// <summary>The SPE's roles (see docs/architecture.md). These names are part of the API: never rename.</summary>
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
}

/// <summary>Authorization policy names. Every endpoint names one, or is explicitly anonymous.</summary>
public static class SpePolicies
{
    /// <summary>Any signed-in caller whose human sign-in used a second factor.</summary>
    public const string Authenticated = "authenticated";

    /// <summary>Auditors.</summary>
    public const string Auditor = "role:auditor";

    /// <summary>Operators.</summary>
    public const string Operator = "role:operator";
}
