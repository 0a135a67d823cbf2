using OpenSpe.Core.Access;
using OpenSpe.Core.Access.Handlers;
using OpenSpe.Core.Permits;
using static OpenSpe.Core.Tests.Access.AccessWorld;

namespace OpenSpe.Core.Tests.Access;

/// <summary>
/// The access chain as pure logic, against expectations written by hand from docs/architecture.md (the access chain) and
/// docs/separation-of-duties.md: who gets what on one project, in which order the checks refuse, and what a grant holds.
/// </summary>
public sealed class AccessChainTests
{
    [Fact]
    public void The_handlers_run_in_the_documented_order()
    {
        using var world = new AccessWorld();

        Assert.Equal(
            [
                typeof(ActionDeclaredHandler), typeof(SecondFactorHandler), typeof(RoleConflictHandler), typeof(MembershipHandler),
                typeof(HaltHandler), typeof(PermitInForceHandler), typeof(RoleAllowsHandler), typeof(TrainingHandler), typeof(DatasetHolderHandler), typeof(FileTypeHandler),
            ],
            world.Chain.Handlers.Select(h => h.GetType()));
    }

    public static TheoryData<string, string, string> Table => new()
    {
        // principal, action, expected outcome on the active project
        { "researcher", "show", "granted" },
        { "researcher", "datasets", "granted" },
        { "researcher", "upload", "permit-role" },
        { "holder", "show", "granted" },
        { "holder", "upload", "granted" },
        { "app", "datasets", "granted" },
        { "app", "upload", "permit-role" },
        { "other-app", "show", "not-a-member" },
        { "hdab", "show", "granted" },
        { "operator", "show", "granted" },
        { "auditor", "show", "granted" },
        { "hdab", "datasets", "not-a-member" },
        { "operator", "upload", "not-a-member" },
        { "auditor", "datasets", "not-a-member" },
        { "stranger", "show", "not-a-member" },
        { "no-mfa-researcher", "show", "mfa-required" },
        { "conflicted", "show", "role-conflict" },
        { "researcher", "undeclared", "undeclared-project-action" },
        { "no-mfa-researcher", "undeclared", "undeclared-project-action" },
        { "conflicted-no-mfa", "show", "mfa-required" },
        { "named-but-role-revoked", "datasets", "not-a-member" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-1")]
    public async Task Each_principal_gets_what_the_table_says(string principal, string action, string expected)
    {
        using var world = new AccessWorld();
        world.Source.Names(PermitId, "id-conflicted", "researcher").Names(PermitId, "id-revoked", "researcher");

        var outcome = await world.OutcomeAsync(Request(PrincipalNamed(principal), ActionNamed(action)));

        Assert.Equal(expected, outcome);
        Assert.Equal(0, world.Halts.Open);
    }

    public static TheoryData<string, string, string, string> StateTable => new()
    {
        // permit state, principal, action, expected
        { "suspended", "researcher", "datasets", "permit-suspended" },
        { "suspended", "researcher", "show", "permit-suspended" },
        { "suspended", "hdab", "show", "granted" },
        { "terminated", "holder", "upload", "permit-terminated" },
        { "terminated", "auditor", "show", "granted" },
        { "revoked", "app", "datasets", "permit-revoked" },
        { "erased", "operator", "show", "granted" },
    };

    [Theory]
    [MemberData(nameof(StateTable))]
    [Trait("Requirement", "EHDSR-3")]
    [Trait("Requirement", "OPR-5")]
    public async Task A_permit_out_of_force_stops_members_and_not_oversight(string state, string principal, string action, string expected)
    {
        using var world = new AccessWorld(state);

        Assert.Equal(expected, await world.OutcomeAsync(Request(PrincipalNamed(principal), ActionNamed(action))));
    }

    public static TheoryData<string, string, string> HaltTable => new()
    {
        { "researcher", "show", "halted" },
        { "researcher", "datasets", "halted" },
        { "holder", "upload", "halted" },
        { "app", "show", "halted" },
        { "hdab", "show", "granted" },
        { "operator", "show", "granted" },
        { "auditor", "show", "granted" },
        { "hdab", "datasets", "not-a-member" },
        { "stranger", "show", "not-a-member" },
    };

    [Theory]
    [MemberData(nameof(HaltTable))]
    [Trait("Requirement", "OPR-20")]
    public async Task A_halted_project_admits_only_oversight_reading_its_metadata(string principal, string action, string expected)
    {
        using var world = new AccessWorld();
        world.Halts.Halt(ProjectId);

        Assert.Equal(expected, await world.OutcomeAsync(Request(PrincipalNamed(principal), ActionNamed(action))));
        Assert.Equal(0, world.Halts.Begun);
    }

    [Theory]
    [InlineData("researcher", "show")]
    [InlineData("researcher", "upload")]
    [InlineData("holder", "upload")]
    [InlineData("hdab", "show")]
    [InlineData("operator", "show")]
    [InlineData("auditor", "show")]
    [InlineData("app", "show")]
    public async Task Halts_this_instance_cannot_read_refuse_everyone_with_503_oversight_too(string principal, string action)
    {
        using var world = new AccessWorld();
        world.Halts.IsStale = true;

        var decision = await world.Chain.DecideAsync(Request(PrincipalNamed(principal), ActionNamed(action)), CancellationToken.None);

        Assert.Null(decision.Grant);
        Assert.Equal(AccessRefusalKind.HaltStateUnknown, decision.Refusal!.Kind);
        Assert.Equal(503, decision.Refusal.Status);
        Assert.Equal("halt-state-unknown", decision.Refusal.Reason);
        Assert.Equal(0, world.Halts.Open);
    }

    [Fact]
    public async Task A_project_that_does_not_exist_is_hidden_from_everyone()
    {
        using var world = new AccessWorld();

        foreach (var principal in new[] { "researcher", "hdab", "app" })
        {
            Assert.Equal("not-a-member", await world.OutcomeAsync(Request(PrincipalNamed(principal), Show, projectId: "prj-other")));
        }
    }

    [Fact]
    public async Task A_grant_holds_the_permit_and_the_roles_that_count_and_registers_work_until_disposed()
    {
        using var world = new AccessWorld();

        var decision = await world.Chain.DecideAsync(Request(Holder, Upload), CancellationToken.None);
        var grant = decision.Grant!;

        Assert.Null(decision.Refusal);
        Assert.Equal(PermitId, grant.Permit.Id);
        Assert.Equal(["data-holder"], grant.MemberRoles);
        Assert.False(grant.AsOversight);
        Assert.Equal(1, world.Halts.Open);
        Assert.False(grant.Halted.IsCancellationRequested);
        world.Halts.CancelRunningWork();
        Assert.True(grant.Halted.IsCancellationRequested);
        grant.Dispose();
        Assert.Equal(0, world.Halts.Open);
    }

    [Fact]
    public async Task Oversight_of_a_halted_project_holds_no_work_and_no_halt_token()
    {
        using var world = new AccessWorld();
        world.Halts.Halt(ProjectId);

        using var grant = (await world.Chain.DecideAsync(Request(Hdab, Show), CancellationToken.None)).Grant!;

        Assert.True(grant.AsOversight);
        Assert.Empty(grant.MemberRoles);
        Assert.Equal(CancellationToken.None, grant.Halted);
    }

    [Fact]
    public async Task A_refusal_after_the_halt_step_ends_the_work_it_registered()
    {
        using var world = new AccessWorld(PermitStates.Suspended);

        var decision = await world.Chain.DecideAsync(Request(Researcher, Datasets), CancellationToken.None);

        Assert.Null(decision.Grant);
        Assert.Equal("permit-suspended", decision.Refusal!.Reason);
        Assert.Equal(1, world.Halts.Begun);
        Assert.Equal(0, world.Halts.Open);
    }

    [Fact]
    public async Task A_refusal_names_its_kind_status_reason_and_message()
    {
        using var world = new AccessWorld();

        var refusal = (await world.Chain.DecideAsync(Request(Researcher, Upload), CancellationToken.None)).Refusal!;

        Assert.Equal(new AccessRefusal(AccessRefusalKind.Forbidden, "permit-role", "Your role in this permit does not allow this."), refusal);
        Assert.Equal(403, refusal.Status);
    }

    [Fact]
    public async Task The_whole_chain_judges_dataset_and_file_in_one_call()
    {
        using var world = new AccessWorld();

        Assert.Equal("granted", await world.OutcomeAsync(Request(Holder, Upload, dataset: "omop", transfer: new(TransferDirection.Upload, "csv"))));
        Assert.Equal("not-holder-of-dataset", await world.OutcomeAsync(Request(Holder, Upload, dataset: "registry", transfer: new(TransferDirection.Upload, "csv"))));
        Assert.Equal("file-type-not-allowed", await world.OutcomeAsync(Request(Holder, Upload, dataset: "omop", transfer: new(TransferDirection.Upload, "exe"))));
        Assert.Equal("dataset-not-in-permit", await world.OutcomeAsync(Request(Holder, Upload, dataset: "nope", transfer: new(TransferDirection.Upload, "exe"))));
        Assert.Equal(0, world.Halts.Open);
    }

    [Fact]
    public async Task The_dataset_steps_run_later_on_a_grant_and_read_the_document_once_per_decision()
    {
        using var world = new AccessWorld();
        using var grant = (await world.Chain.DecideAsync(Request(Holder2, Upload), CancellationToken.None)).Grant!;

        var own = await world.Chain.DecideResourceAsync(grant, "registry", new(TransferDirection.Upload, "parquet"), CancellationToken.None);
        var others = await world.Chain.DecideResourceAsync(grant, "omop", null, CancellationToken.None);
        var type = await world.Chain.DecideResourceAsync(grant, "registry", new(TransferDirection.Upload, "r"), CancellationToken.None);

        Assert.Null(own);
        Assert.Equal(new AccessRefusal(AccessRefusalKind.Forbidden, "not-holder-of-dataset", "The permit names another data holder for this dataset."), others);
        Assert.Equal(new AccessRefusal(AccessRefusalKind.Forbidden, "file-type-not-allowed", "The permit does not allow uploading '.r' files."), type);
        Assert.Equal(3, world.Source.DocumentReads);
        Assert.Equal(1, world.Halts.Open);
    }

    [Fact]
    public async Task A_project_level_decision_reads_no_document()
    {
        using var world = new AccessWorld();

        Assert.Equal("granted", await world.OutcomeAsync(Request(Holder, Upload)));
        Assert.Equal(0, world.Source.DocumentReads);
        Assert.Equal(0, world.Source.AccountLookups);
    }

    [Fact]
    public async Task Held_datasets_are_matched_by_account_id()
    {
        using var world = new AccessWorld();
        using var holder = (await world.Chain.DecideAsync(Request(Holder, Datasets), CancellationToken.None)).Grant!;
        using var holder2 = (await world.Chain.DecideAsync(Request(Holder2, Datasets), CancellationToken.None)).Grant!;
        using var researcher = (await world.Chain.DecideAsync(Request(Researcher, Datasets), CancellationToken.None)).Grant!;

        Assert.Equal(["omop"], await world.Chain.HeldDatasetsAsync(holder, CancellationToken.None));
        Assert.Equal(["registry"], await world.Chain.HeldDatasetsAsync(holder2, CancellationToken.None));
        Assert.Empty(await world.Chain.HeldDatasetsAsync(researcher, CancellationToken.None));
    }

    [Fact]
    public async Task A_principal_without_an_account_id_holds_nothing_and_costs_no_lookup()
    {
        using var world = new AccessWorld();

        var held = await DatasetHolders.HeldByAsync(world.Source, Document, null, CancellationToken.None);

        Assert.Empty(held);
        Assert.Equal(0, world.Source.AccountLookups);
        Assert.Equal(["omop"], await DatasetHolders.HeldByAsync(world.Source, Document, "id-holder", CancellationToken.None));
        Assert.Equal(1, world.Source.AccountLookups);
        Assert.Equal("source", (await Assert.ThrowsAsync<ArgumentNullException>(() => DatasetHolders.HeldByAsync(null!, Document, "id-holder", CancellationToken.None))).ParamName);
        Assert.Equal("document", (await Assert.ThrowsAsync<ArgumentNullException>(() => DatasetHolders.HeldByAsync(world.Source, null!, "id-holder", CancellationToken.None))).ParamName);
    }

    [Fact]
    public async Task Null_arguments_are_refused()
    {
        using var world = new AccessWorld();

        Assert.Throws<ArgumentNullException>(() => new AccessChain(null!, world.Halts, world.Clock));
        Assert.Throws<ArgumentNullException>(() => new AccessChain(world.Source, null!, world.Clock));
        Assert.Throws<ArgumentNullException>(() => new AccessChain(world.Source, world.Halts, null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => world.Chain.DecideResourceAsync(null!, "omop", null, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentNullException>(() => world.Chain.HeldDatasetsAsync(null!, CancellationToken.None));
    }

    internal static AccessPrincipal PrincipalNamed(string name) => name switch
    {
        "researcher" => Researcher,
        "holder" => Holder,
        "holder2" => Holder2,
        "app" => App,
        "other-app" => OtherApp,
        "hdab" => Hdab,
        "operator" => Operator,
        "auditor" => Auditor,
        "stranger" => AccessPrincipal.Person("id-stranger", true, ["researcher", "data-holder"]),
        "no-mfa-researcher" => AccessPrincipal.Person("id-res", false, ["researcher"]),
        "conflicted" => AccessPrincipal.Person("id-conflicted", true, ["researcher", "admin"]),
        "conflicted-no-mfa" => AccessPrincipal.Person("id-conflicted", false, ["researcher", "admin"]),
        "named-but-role-revoked" => AccessPrincipal.Person("id-revoked", true, ["output-checker"]),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    internal static ProjectAction? ActionNamed(string name) => name switch
    {
        "show" => Show,
        "datasets" => Datasets,
        "upload" => Upload,
        "undeclared" => null,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };
}
