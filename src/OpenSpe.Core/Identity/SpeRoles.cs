using OpenSpe.Contracts;

namespace OpenSpe.Core.Identity;

/// <summary>The SPE's account roles (see docs/separation-of-duties.md). The names are the API's, in <see cref="AccountRoles"/>.</summary>
public static class SpeRoles
{
    /// <summary>Health Data Access Body officer.</summary>
    public const string Hdab = AccountRoles.Hdab;

    /// <summary>Reviews airlock requests.</summary>
    public const string OutputChecker = AccountRoles.OutputChecker;

    /// <summary>Uploads permitted datasets.</summary>
    public const string DataHolder = AccountRoles.DataHolder;

    /// <summary>Data user named in a permit.</summary>
    public const string Researcher = AccountRoles.Researcher;

    /// <summary>Runs the service; never sees project data.</summary>
    public const string Operator = AccountRoles.Operator;

    /// <summary>Reads and verifies audit logs; changes nothing.</summary>
    public const string Auditor = AccountRoles.Auditor;

    /// <summary>Manages accounts; never sees project data.</summary>
    public const string Admin = AccountRoles.Admin;

    /// <summary>Every role.</summary>
    public static IReadOnlyList<string> All => AccountRoles.All;

    /// <summary>
    /// The oversight roles: they see every permit and the metadata of every project, never its data (SDR-2). The one list
    /// the access chain, permit visibility and the project listing use.
    /// </summary>
    public static IReadOnlyList<string> Oversight { get; } = [Hdab, Operator, Auditor];
}
