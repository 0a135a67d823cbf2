using OpenSpe.Core.Identity;

namespace OpenSpe.Server.Identity;

/// <summary>Authorization policy names. Every endpoint names one, or is explicitly anonymous.</summary>
internal static class SpePolicies
{
    /// <summary>A person signed in with a second factor (the default and fallback).</summary>
    public const string Human = "human-mfa";

    /// <summary>A person with MFA, or an application (client credentials) — which reaches a project only when a permit names it.</summary>
    public const string HumanOrClient = "human-mfa-or-client";

    /// <summary>A person signed in with a password only: may enrol a second factor and nothing else.</summary>
    public const string Enrolment = "enrolment";

    /// <summary>Anyone with a valid token, even before enrolling a second factor: only for reading one's own identity.</summary>
    public const string SignedIn = "signed-in";

    /// <summary>Auditors.</summary>
    public const string Auditor = "role:" + SpeRoles.Auditor;

    /// <summary>Operators.</summary>
    public const string Operator = "role:" + SpeRoles.Operator;

    /// <summary>Admins.</summary>
    public const string Admin = "role:" + SpeRoles.Admin;

    /// <summary>Output checkers.</summary>
    public const string OutputChecker = "role:" + SpeRoles.OutputChecker;

    /// <summary>HDAB officers.</summary>
    public const string Hdab = "role:" + SpeRoles.Hdab;

    /// <summary>Those who halt and resume (OPR-20): operators and HDAB officers.</summary>
    public const string HaltOperators = "roles:" + SpeRoles.Operator + "," + SpeRoles.Hdab;

    /// <summary>Those who may read permits (each sees only the permits naming them, unless hdab, auditor or operator).</summary>
    public const string PermitReaders = "roles:" + SpeRoles.Hdab + "," + SpeRoles.Auditor + "," + SpeRoles.Operator + "," + SpeRoles.Researcher + "," + SpeRoles.DataHolder;

    /// <summary>Those who may read visas: HDAB officers (all) and data users (their own). Visas are credentials: not operators or auditors.</summary>
    public const string VisaReaders = "roles:" + SpeRoles.Hdab + "," + SpeRoles.Researcher;

    /// <summary>
    /// Those who may list every export's metadata and decisions: HDAB officers (EHDSR-13) and output checkers (their queue of
    /// requests to review). Neither gets a file through it.
    /// </summary>
    public const string ExportRegistryReaders = "roles:" + SpeRoles.Hdab + "," + SpeRoles.OutputChecker;

    /// <summary>
    /// Those who may read incidents: operators (who record them), auditors, and HDAB officers (only incidents affecting
    /// permits they can see). Researchers and data holders get nothing.
    /// </summary>
    public const string IncidentReaders = "roles:" + SpeRoles.Operator + "," + SpeRoles.Auditor + "," + SpeRoles.Hdab;

    /// <summary>Those who record people's role-specific training (OPR-23): HDAB officers and admins.</summary>
    public const string TrainingRecorders = "roles:" + SpeRoles.Hdab + "," + SpeRoles.Admin;

    /// <summary>Those who read training records: the recorders and auditors.</summary>
    public const string TrainingReaders = "roles:" + SpeRoles.Hdab + "," + SpeRoles.Admin + "," + SpeRoles.Auditor;

    /// <summary>
    /// Those who may read the operations evidence — fired alerts, backups made and restore drills recorded, the component inventory: operators (who
    /// acknowledge alerts and record drills) and auditors (read-only).
    /// </summary>
    public const string OperationsReaders = "roles:" + SpeRoles.Operator + "," + SpeRoles.Auditor;

    /// <summary>
    /// Those who may read the component inventory: operators, auditors and HDAB officers. It holds no project data (the build,
    /// versions, digests, the SBOM), and the HDAB must read the federated runner's identity from it to approve that build in a
    /// permit's <c>approvedComponents</c> (FCR-4).
    /// </summary>
    public const string ComponentReaders = "roles:" + SpeRoles.Operator + "," + SpeRoles.Auditor + "," + SpeRoles.Hdab;

    /// <summary>Multi-role policies: any of the listed roles, with MFA.</summary>
    public static IReadOnlyList<string> AnyOfRoles { get; } = [HaltOperators, PermitReaders, VisaReaders, ExportRegistryReaders, IncidentReaders, OperationsReaders, ComponentReaders, TrainingRecorders, TrainingReaders];

    /// <summary>The policy that requires <paramref name="role"/> (with MFA).</summary>
    public static string ForRole(string role) => "role:" + role;
}
