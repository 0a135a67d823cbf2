namespace OpenSpe.Core.Permits;

/// <summary>
/// A data permit as the HDAB issues it (EHDSR-1, EHDSR-10): who may use which datasets, from
/// when to when, for what, under which policies. The field names are part of the API (see
/// docs/permit-format.md); unknown fields are refused.
/// </summary>
public sealed record PermitDocument(
    string Reference,
    string Title,
    string Purpose,
    string LegalBasis,
    DateTimeOffset ValidFrom,
    DateTimeOffset ValidUntil,
    IReadOnlyList<PermitDataset> Datasets,
    IReadOnlyList<PermitDataUser> DataUsers,
    PermitPolicies? Policies = null);

/// <summary>
/// A dataset the permit makes available, and the data holder who uploads it. <paramref name="Node"/> names the federation node
/// (SPE) that holds it; absent, the SPE that issued the permit holds it. A holder of another node's dataset is an account there.
/// </summary>
public sealed record PermitDataset(string Id, string Title, string Holder, string? Description = null, string? Node = null);

/// <summary>
/// A data user allowed in: a natural person (a local account, or an external identity by issuer and
/// subject), or a data user's application by its OAuth client id (FCR-7). Exactly one is named.
/// </summary>
public sealed record PermitDataUser(string? Account = null, string? Issuer = null, string? Subject = null, string? Name = null, string? Application = null);

/// <summary>What the permit allows inside the project.</summary>
public sealed record PermitPolicies(
    IReadOnlyList<string>? WorkspaceKinds = null,
    int? IdleTimeoutMinutes = null,
    string? Clipboard = null,
    PermitFileTypes? FileTypes = null,
    PermitAirlockRules? Airlock = null,
    IReadOnlyList<PermitComponent>? ApprovedComponents = null,
    PermitPrivacyBudget? PrivacyBudget = null);

/// <summary>Allowed file types per transfer direction (TIR-5).</summary>
public sealed record PermitFileTypes(IReadOnlyList<string>? Upload = null, IReadOnlyList<string>? Import = null, IReadOnlyList<string>? Export = null);

/// <summary>Output-checking rules for the airlock.</summary>
public sealed record PermitAirlockRules(
    int ReviewersRequired = 2,
    int Threshold = 10,
    int DominanceN = 2,
    double DominanceK = 0.9,
    double PPercent = 0.1,
    int KAnonymity = 10,
    int LDiversity = 2,
    bool ZerosAllowed = false,
    int MinResidualDf = 10);

/// <summary>A software component the HDAB approved for this permit (FCR-4).</summary>
public sealed record PermitComponent(string Name, string Version, string Sha256);

/// <summary>The differential-privacy budget for federated and DP queries.</summary>
public sealed record PermitPrivacyBudget(double Epsilon = 3.0, double Delta = 1e-6);

/// <summary>Defaults applied where a permit is silent: the most restrictive sensible values.</summary>
public static class PermitDefaults
{
    /// <summary>Workspace kinds the SPE offers.</summary>
    public static readonly IReadOnlySet<string> WorkspaceKinds = new HashSet<string>(StringComparer.Ordinal) { "desktop", "terminal", "job", "notebook" };

    /// <summary>Clipboard settings.</summary>
    public static readonly IReadOnlySet<string> ClipboardModes = new HashSet<string>(StringComparer.Ordinal) { "none", "in", "out", "both" };

    /// <summary>Purposes of EHDS Article 53.</summary>
    public static readonly IReadOnlySet<string> Purposes = new HashSet<string>(StringComparer.Ordinal)
    {
        "scientific-research", "public-health", "policy-making", "statistics", "education", "innovation", "ai-training", "personalised-healthcare",
    };

    /// <summary>Fills every omitted policy with its default so stored versions are complete.</summary>
    public static PermitDocument Normalize(PermitDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var p = document.Policies ?? new PermitPolicies();
        var policies = new PermitPolicies(
            p.WorkspaceKinds ?? ["job"],
            p.IdleTimeoutMinutes ?? 15,
            p.Clipboard ?? "none",
            new PermitFileTypes(p.FileTypes?.Upload ?? [], p.FileTypes?.Import ?? [], p.FileTypes?.Export ?? []),
            p.Airlock ?? new PermitAirlockRules(),
            p.ApprovedComponents ?? [],
            p.PrivacyBudget ?? new PermitPrivacyBudget());
        return document with
        {
            ValidFrom = document.ValidFrom.ToUniversalTime(),
            ValidUntil = document.ValidUntil.ToUniversalTime(),
            Policies = policies,
        };
    }
}
