using OpenSpe.Core.Access;
using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Tests.Access;

/// <summary>A clock that stands where a test puts it.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// One project under an active permit, written out by hand: a researcher, two holders of one dataset each and an application
/// named in it; accounts with each oversight role named in none; the clock inside the validity period.
/// </summary>
internal sealed class AccessWorld : IDisposable
{
    public const string ProjectId = "prj-1";
    public const string PermitId = "pmt-1";

    public static readonly DateTimeOffset ValidFrom = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset ValidUntil = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly ProjectAction Show = new("project.show", ["researcher", "data-holder", "application"], Oversight: true);
    public static readonly ProjectAction Datasets = new("project.datasets.list", ["researcher", "data-holder", "application"]);
    public static readonly ProjectAction Upload = new("uploads.create", ["data-holder"]);
    public static readonly ProjectAction ReadDataset = new("dataset.read", ["researcher", "data-holder"]);

    public static readonly AccessPrincipal Researcher = AccessPrincipal.Person("id-res", true, ["researcher"]);
    public static readonly AccessPrincipal Holder = AccessPrincipal.Person("id-holder", true, ["data-holder"]);
    public static readonly AccessPrincipal Holder2 = AccessPrincipal.Person("id-holder2", true, ["data-holder"]);
    public static readonly AccessPrincipal Hdab = AccessPrincipal.Person("id-hdab", true, ["hdab"]);
    public static readonly AccessPrincipal Operator = AccessPrincipal.Person("id-op", true, ["operator"]);
    public static readonly AccessPrincipal Auditor = AccessPrincipal.Person("id-aud", true, ["auditor"]);
    public static readonly AccessPrincipal App = AccessPrincipal.Application("analysis");
    public static readonly AccessPrincipal OtherApp = AccessPrincipal.Application("other");

    public static readonly PermitDocument Document = new(
        "HDAB-1", "Study", "scientific-research", "EHDS Article 53(1)(e)", ValidFrom, ValidUntil,
        [new PermitDataset("omop", "OMOP", "holder"), new PermitDataset("registry", "Registry", "holder2")],
        [new PermitDataUser(Account: "researcher"), new PermitDataUser(Application: "analysis")],
        new PermitPolicies(FileTypes: new PermitFileTypes(["csv", "parquet"], ["r"], ["png"])));

    public AccessWorld(string state = PermitStates.Active)
    {
        Source = new FakeAccessSource()
            .Permit(new ProjectPermit(PermitId, ProjectId, "HDAB-1", "Study", state, 1, ValidFrom, ValidUntil), Document)
            .Names(PermitId, "id-res", "researcher")
            .Names(PermitId, "id-holder", "data-holder")
            .Names(PermitId, "id-holder2", "data-holder")
            .Names(PermitId, "app:analysis", "application")
            .Account("researcher", "id-res")
            .Account("holder", "id-holder")
            .Account("holder2", "id-holder2");
        Chain = new AccessChain(Source, Halts, Clock);
    }

    public FakeAccessSource Source { get; }

    public FakeHalts Halts { get; } = new();

    public ManualClock Clock { get; } = new(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));

    public AccessChain Chain { get; }

    public static AccessRequest Request(AccessPrincipal principal, ProjectAction? action, string projectId = ProjectId, string? dataset = null, FileTransfer? transfer = null) =>
        new(principal, projectId, action, dataset, transfer);

    /// <summary>Runs the chain and returns the refusal's reason class, or "granted" (disposing the grant).</summary>
    public async Task<string> OutcomeAsync(AccessRequest request)
    {
        var decision = await Chain.DecideAsync(request, CancellationToken.None);
        if (decision.Grant is { } grant)
        {
            Assert.Null(decision.Refusal);
            grant.Dispose();
            return "granted";
        }

        return decision.Refusal!.Reason;
    }

    public void Dispose() => Halts.Dispose();
}
