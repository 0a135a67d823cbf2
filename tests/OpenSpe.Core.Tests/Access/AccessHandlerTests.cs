using OpenSpe.Core.Access;
using OpenSpe.Core.Access.Handlers;
using OpenSpe.Core.Permits;
using static OpenSpe.Core.Tests.Access.AccessWorld;

namespace OpenSpe.Core.Tests.Access;

/// <summary>Each handler alone: the exact refusal it gives (kind, status, reason class, message), and when it lets a request pass.</summary>
public sealed class AccessHandlerTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static AccessContext Context(AccessPrincipal principal, ProjectAction? action, string? dataset = null, FileTransfer? transfer = null, IProjectAccessSource? source = null) =>
        new(Request(principal, action, dataset: dataset, transfer: transfer), source);

    private static AccessContext Admitted(AccessWorld world, AccessPrincipal principal, ProjectAction action, IReadOnlySet<string> roles, string? dataset = null, FileTransfer? transfer = null, bool asOversight = false)
    {
        var context = Context(principal, action, dataset, transfer, world.Source);
        context.Permit = new ProjectPermit(PermitId, ProjectId, "HDAB-1", "Study", PermitStates.Active, 1, ValidFrom, ValidUntil);
        context.MemberRoles = roles;
        context.AsOversight = asOversight;
        return context;
    }

    private static HashSet<string> Roles(params string[] roles) => roles.ToHashSet(StringComparer.Ordinal);

    [Fact]
    public async Task An_undeclared_action_is_refused_and_a_declared_one_passes()
    {
        var handler = new ActionDeclaredHandler();

        var refusal = await handler.HandleAsync(Context(Researcher, null), CancellationToken.None);

        Assert.Equal(new AccessRefusal(AccessRefusalKind.Forbidden, "undeclared-project-action", "This operation is not available."), refusal);
        Assert.Null(await handler.HandleAsync(Context(Researcher, Show), CancellationToken.None));
    }

    [Fact]
    public async Task A_person_without_a_second_factor_is_refused_and_an_application_is_not()
    {
        var handler = new SecondFactorHandler();

        var refusal = await handler.HandleAsync(Context(AccessPrincipal.Person("id-res", false, ["researcher"]), Show), CancellationToken.None);

        Assert.Equal(new AccessRefusal(AccessRefusalKind.Forbidden, "mfa-required", "Project access needs a sign-in with a second factor."), refusal);
        Assert.Null(await handler.HandleAsync(Context(Researcher, Show), CancellationToken.None));
        Assert.Null(await handler.HandleAsync(Context(App, Show), CancellationToken.None));
    }

    [Theory]
    [InlineData("researcher,admin", true)]
    [InlineData("hdab,data-holder", true)]
    [InlineData("auditor,output-checker", true)]
    [InlineData("researcher,data-holder", false)]
    [InlineData("researcher,output-checker", false)]
    [InlineData("hdab", false)]
    public async Task Roles_the_separation_of_duties_table_forbids_together_end_project_access(string roles, bool refused)
    {
        var principal = AccessPrincipal.Person("id-x", true, roles.Split(','));

        var refusal = await new RoleConflictHandler().HandleAsync(Context(principal, Show), CancellationToken.None);

        Assert.Equal(refused
            ? new AccessRefusal(AccessRefusalKind.Forbidden, "role-conflict", "Your account holds roles that may not be held together: ask an admin to revoke one.")
            : null, refusal);
    }

    [Fact]
    public async Task A_member_passes_with_the_roles_that_count()
    {
        using var world = new AccessWorld();
        world.Source.Names(PermitId, "id-both", "researcher").Names(PermitId, "id-both", "data-holder");
        var context = Context(AccessPrincipal.Person("id-both", true, ["researcher"]), Datasets, source: world.Source);

        Assert.Null(await new MembershipHandler(world.Source).HandleAsync(context, CancellationToken.None));
        Assert.Equal(PermitId, context.Permit!.Id);
        Assert.Equal(["researcher"], context.MemberRoles);
        Assert.False(context.AsOversight);
    }

    [Fact]
    public async Task A_stranger_gets_the_answer_of_a_project_that_does_not_exist()
    {
        using var world = new AccessWorld();
        var handler = new MembershipHandler(world.Source);
        var expected = new AccessRefusal(AccessRefusalKind.Hidden, "not-a-member", "There is no such project.");

        var stranger = Context(AccessPrincipal.Person("id-x", true, ["researcher"]), Show, source: world.Source);
        var elsewhere = new AccessContext(Request(Researcher, Show, projectId: "prj-none"), world.Source);

        Assert.Equal(expected, await handler.HandleAsync(stranger, CancellationToken.None));
        Assert.Equal(expected, await handler.HandleAsync(elsewhere, CancellationToken.None));
        Assert.Null(stranger.Permit);
        Assert.Equal(404, expected.Status);
    }

    [Theory]
    [InlineData("hdab")]
    [InlineData("operator")]
    [InlineData("auditor")]
    public async Task Oversight_passes_a_metadata_action_as_oversight_only(string role)
    {
        using var world = new AccessWorld();
        var context = Context(AccessPrincipal.Person("id-" + role, true, [role]), Show, source: world.Source);

        Assert.Null(await new MembershipHandler(world.Source).HandleAsync(context, CancellationToken.None));
        Assert.True(context.AsOversight);
        Assert.Empty(context.MemberRoles);
        Assert.Equal(PermitId, context.Permit!.Id);
    }

    [Theory]
    [InlineData("hdab")]
    [InlineData("operator")]
    [InlineData("auditor")]
    [InlineData("admin")]
    [InlineData("output-checker")]
    public async Task No_account_role_opens_a_data_action_without_membership(string role)
    {
        using var world = new AccessWorld();
        var context = Context(AccessPrincipal.Person("id-" + role, true, [role]), Datasets, source: world.Source);

        Assert.Equal("not-a-member", (await new MembershipHandler(world.Source).HandleAsync(context, CancellationToken.None))?.Reason);
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    public async Task An_output_checker_reviews_only_projects_whose_permit_names_them_in_no_role()
    {
        using var world = new AccessWorld();
        var review = new ProjectAction("project.exports.review", [], Reviewers: true);
        // Note: named as a data user but without the researcher account role (never granted, or revoked since): the permit
        // still names them, so they belong to the project and are no independent reviewer of it.
        world.Source.Names(PermitId, "id-named-checker", "researcher");
        var named = Context(AccessPrincipal.Person("id-named-checker", true, ["output-checker"]), review, source: world.Source);
        var independent = Context(AccessPrincipal.Person("id-checker", true, ["output-checker"]), review, source: world.Source);
        var handler = new MembershipHandler(world.Source);

        Assert.Equal("not-a-member", (await handler.HandleAsync(named, CancellationToken.None))?.Reason);
        Assert.False(named.AsReviewer);
        Assert.Null(await handler.HandleAsync(independent, CancellationToken.None));
        Assert.True(independent.AsReviewer);
    }

    [Fact]
    public async Task A_member_who_also_oversees_acts_as_a_member()
    {
        using var world = new AccessWorld();
        world.Source.Names(PermitId, "id-mixed", "researcher");
        var context = Context(AccessPrincipal.Person("id-mixed", true, ["researcher", "hdab"]), Show, source: world.Source);

        Assert.Null(await new MembershipHandler(world.Source).HandleAsync(context, CancellationToken.None));
        Assert.False(context.AsOversight);
        Assert.Equal(["researcher"], context.MemberRoles);
    }

    [Fact]
    public async Task An_unhalted_project_registers_work_and_a_halted_one_refuses_members()
    {
        using var world = new AccessWorld();
        var handler = new HaltHandler(world.Halts);
        var running = Admitted(world, Researcher, Datasets, Roles("researcher"));

        Assert.Null(await handler.HandleAsync(running, CancellationToken.None));
        Assert.NotNull(running.Work);
        Assert.Equal(1, world.Halts.Open);

        world.Halts.Halt(ProjectId);
        var refusal = await handler.HandleAsync(Admitted(world, Researcher, Datasets, Roles("researcher")), CancellationToken.None);

        Assert.Equal(new AccessRefusal(AccessRefusalKind.Halted, "halted", "This project is halted by an emergency stop. Nothing can be done until it is resumed."), refusal);
        Assert.Equal(HaltHandler.Refusal, refusal);
        Assert.Equal(423, refusal!.Status);
    }

    [Fact]
    public async Task Oversight_passes_a_halt_without_registering_work()
    {
        using var world = new AccessWorld();
        world.Halts.Halt(ProjectId);
        var context = Admitted(world, Hdab, Show, Roles(), asOversight: true);

        Assert.Null(await new HaltHandler(world.Halts).HandleAsync(context, CancellationToken.None));
        Assert.Null(context.Work);
    }

    [Theory]
    [InlineData("active", null)]
    [InlineData("suspended", "permit-suspended")]
    [InlineData("expired", "permit-expired")]
    [InlineData("revoked", "permit-revoked")]
    [InlineData("terminated", "permit-terminated")]
    [InlineData("erased", "permit-erased")]
    public async Task Only_an_active_permit_is_in_force(string state, string? reason)
    {
        using var world = new AccessWorld();
        var context = Admitted(world, Researcher, Datasets, Roles("researcher"));
        context.Permit = context.Permit! with { State = state };
        world.Clock.Now = Now;

        var refusal = await new PermitInForceHandler(world.Clock).HandleAsync(context, CancellationToken.None);

        Assert.Equal(reason is null ? null : new AccessRefusal(AccessRefusalKind.PermitNotInForce, reason, $"The permit is not in force ({reason.Replace('-', ' ')})."), refusal);
    }

    [Theory]
    [InlineData(-1, "permit-not-yet-valid")]
    [InlineData(0, null)]
    [InlineData(1, null)]
    public async Task A_permit_is_in_force_from_its_first_instant(long ticks, string? reason)
    {
        using var world = new AccessWorld();
        world.Clock.Now = ValidFrom.AddTicks(ticks);

        var refusal = await new PermitInForceHandler(world.Clock).HandleAsync(Admitted(world, Researcher, Datasets, Roles("researcher")), CancellationToken.None);

        Assert.Equal(reason, refusal?.Reason);
    }

    [Theory]
    [InlineData(-1, null)]
    [InlineData(0, "permit-expired")]
    [InlineData(1, "permit-expired")]
    public async Task A_permit_is_out_of_force_from_its_valid_until(long ticks, string? reason)
    {
        using var world = new AccessWorld();
        world.Clock.Now = ValidUntil.AddTicks(ticks);

        var refusal = await new PermitInForceHandler(world.Clock).HandleAsync(Admitted(world, Researcher, Datasets, Roles("researcher")), CancellationToken.None);

        Assert.Equal(reason, refusal?.Reason);
        Assert.Equal(reason is null ? null : 403, refusal?.Status);
    }

    [Fact]
    public async Task Oversight_reads_metadata_of_a_permit_out_of_force()
    {
        using var world = new AccessWorld();
        var context = Admitted(world, Hdab, Show, Roles(), asOversight: true);
        context.Permit = context.Permit! with { State = PermitStates.Terminated };

        Assert.Null(await new PermitInForceHandler(world.Clock).HandleAsync(context, CancellationToken.None));
    }

    [Fact]
    public async Task A_role_the_action_does_not_allow_is_refused()
    {
        using var world = new AccessWorld();
        var handler = new RoleAllowsHandler();

        var refusal = await handler.HandleAsync(Admitted(world, Researcher, Upload, Roles("researcher")), CancellationToken.None);

        Assert.Equal(new AccessRefusal(AccessRefusalKind.Forbidden, "permit-role", "Your role in this permit does not allow this."), refusal);
        Assert.Null(await handler.HandleAsync(Admitted(world, Holder, Upload, Roles("data-holder")), CancellationToken.None));
        Assert.Null(await handler.HandleAsync(Admitted(world, Researcher, Datasets, Roles("researcher")), CancellationToken.None));
        Assert.Null(await handler.HandleAsync(Admitted(world, Hdab, Show, Roles(), asOversight: true), CancellationToken.None));
    }

    [Fact]
    public async Task Without_a_dataset_the_holder_step_does_nothing()
    {
        using var world = new AccessWorld();

        Assert.Null(await new DatasetHolderHandler(world.Source).HandleAsync(Admitted(world, Holder, Upload, Roles("data-holder")), CancellationToken.None));
        Assert.Equal(0, world.Source.DocumentReads);
    }

    [Fact]
    public async Task A_dataset_the_permit_does_not_name_is_refused_to_everyone()
    {
        using var world = new AccessWorld();
        var handler = new DatasetHolderHandler(world.Source);
        var expected = new AccessRefusal(AccessRefusalKind.Forbidden, "dataset-not-in-permit", "The permit names no such dataset.");

        Assert.Equal(expected, await handler.HandleAsync(Admitted(world, Holder, Upload, Roles("data-holder"), dataset: "other"), CancellationToken.None));
        Assert.Equal(expected, await handler.HandleAsync(Admitted(world, Researcher, ReadDataset, Roles("researcher"), dataset: "other"), CancellationToken.None));
        Assert.Equal(expected, await handler.HandleAsync(Admitted(world, Hdab, Show, Roles(), dataset: "other", asOversight: true), CancellationToken.None));
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    public async Task A_holder_acts_only_on_the_dataset_the_permit_names_them_for()
    {
        using var world = new AccessWorld();
        var handler = new DatasetHolderHandler(world.Source);
        var refused = new AccessRefusal(AccessRefusalKind.Forbidden, "not-holder-of-dataset", "The permit names another data holder for this dataset.");

        Assert.Null(await handler.HandleAsync(Admitted(world, Holder, Upload, Roles("data-holder"), dataset: "omop"), CancellationToken.None));
        Assert.Equal(refused, await handler.HandleAsync(Admitted(world, Holder, Upload, Roles("data-holder"), dataset: "registry"), CancellationToken.None));
        Assert.Equal(refused, await handler.HandleAsync(Admitted(world, Holder2, Upload, Roles("data-holder"), dataset: "omop"), CancellationToken.None));
        Assert.Null(await handler.HandleAsync(Admitted(world, Holder2, Upload, Roles("data-holder"), dataset: "registry"), CancellationToken.None));
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    public async Task The_holder_is_matched_by_account_id_never_by_name()
    {
        using var world = new AccessWorld();
        // An account whose id is not the one the permit's holder name resolves to, whatever name it goes by.
        var impostor = AccessPrincipal.Person("holder", true, ["data-holder"]);
        var nameless = AccessPrincipal.Person(null, true, ["data-holder"]);
        var handler = new DatasetHolderHandler(world.Source);

        Assert.Equal("not-holder-of-dataset", (await handler.HandleAsync(Admitted(world, impostor, Upload, Roles("data-holder"), dataset: "omop"), CancellationToken.None))?.Reason);
        Assert.Equal("not-holder-of-dataset", (await handler.HandleAsync(Admitted(world, nameless, Upload, Roles("data-holder"), dataset: "omop"), CancellationToken.None))?.Reason);
    }

    [Fact]
    public async Task A_holder_whose_account_is_gone_holds_nothing()
    {
        using var world = new AccessWorld();
        var document = Document with { Datasets = [new PermitDataset("omop", "OMOP", "deleted-holder")] };
        world.Source.Permit(new ProjectPermit(PermitId, ProjectId, "HDAB-1", "Study", PermitStates.Active, 1, ValidFrom, ValidUntil), document);

        var refusal = await new DatasetHolderHandler(world.Source).HandleAsync(Admitted(world, Holder, Upload, Roles("data-holder"), dataset: "omop"), CancellationToken.None);

        Assert.Equal("not-holder-of-dataset", refusal?.Reason);
    }

    [Fact]
    public async Task A_caller_admitted_by_another_role_needs_only_the_dataset_to_be_named()
    {
        using var world = new AccessWorld();
        var handler = new DatasetHolderHandler(world.Source);

        Assert.Null(await handler.HandleAsync(Admitted(world, Researcher, ReadDataset, Roles("researcher"), dataset: "omop"), CancellationToken.None));
        // Both roles, and the action admits both: the researcher role admits them to any named dataset.
        var both = AccessPrincipal.Person("id-holder2", true, ["researcher", "data-holder"]);
        Assert.Null(await handler.HandleAsync(Admitted(world, both, ReadDataset, Roles("researcher", "data-holder"), dataset: "omop"), CancellationToken.None));
        // Both roles, but the action admits only holders: they act as a holder.
        Assert.Equal("not-holder-of-dataset", (await handler.HandleAsync(Admitted(world, both, Upload, Roles("researcher", "data-holder"), dataset: "omop"), CancellationToken.None))?.Reason);
        Assert.Null(await handler.HandleAsync(Admitted(world, Hdab, Show, Roles(), dataset: "omop", asOversight: true), CancellationToken.None));
    }

    [Fact]
    public async Task Without_a_transfer_the_file_type_step_does_nothing()
    {
        using var world = new AccessWorld();

        Assert.Null(await new FileTypeHandler().HandleAsync(Admitted(world, Holder, Upload, Roles("data-holder"), dataset: "omop"), CancellationToken.None));
        Assert.Equal(0, world.Source.DocumentReads);
    }

    [Theory]
    [InlineData(TransferDirection.Upload, "csv", null)]
    [InlineData(TransferDirection.Upload, "parquet", null)]
    [InlineData(TransferDirection.Upload, "r", "The permit does not allow uploading '.r' files.")]
    [InlineData(TransferDirection.Upload, "CSV", "The permit does not allow uploading '.CSV' files.")]
    [InlineData(TransferDirection.Upload, null, "The permit does not allow uploading '.' files.")]
    [InlineData(TransferDirection.Import, "r", null)]
    [InlineData(TransferDirection.Import, "csv", "The permit does not allow importing '.csv' files.")]
    [InlineData(TransferDirection.Export, "png", null)]
    [InlineData(TransferDirection.Export, "csv", "The permit does not allow exporting '.csv' files.")]
    [Trait("Requirement", "TIR-5")]
    public async Task The_file_type_policy_of_the_direction_decides(TransferDirection direction, string? type, string? message)
    {
        using var world = new AccessWorld();

        var refusal = await new FileTypeHandler().HandleAsync(Admitted(world, Holder, Upload, Roles("data-holder"), transfer: new(direction, type)), CancellationToken.None);

        Assert.Equal(message is null ? null : new AccessRefusal(AccessRefusalKind.Forbidden, "file-type-not-allowed", message), refusal);
    }

    [Fact]
    public async Task Handlers_refuse_a_null_context()
    {
        using var world = new AccessWorld();
        IAccessHandler[] handlers =
        [
            new ActionDeclaredHandler(), new SecondFactorHandler(), new RoleConflictHandler(), new MembershipHandler(world.Source), new HaltHandler(world.Halts),
            new PermitInForceHandler(world.Clock), new RoleAllowsHandler(), new TrainingHandler(null, world.Clock), new DatasetHolderHandler(world.Source), new FileTypeHandler(),
        ];

        foreach (var handler in handlers)
        {
            await Assert.ThrowsAsync<ArgumentNullException>(async () => await handler.HandleAsync(null!, CancellationToken.None));
        }
    }

    [Fact]
    public void Each_refusal_kind_has_its_status()
    {
        Assert.Equal(403, new AccessRefusal(AccessRefusalKind.Forbidden, "r", "m").Status);
        Assert.Equal(404, new AccessRefusal(AccessRefusalKind.Hidden, "r", "m").Status);
        Assert.Equal(423, new AccessRefusal(AccessRefusalKind.Halted, "r", "m").Status);
        Assert.Equal(403, new AccessRefusal(AccessRefusalKind.PermitNotInForce, "r", "m").Status);
    }

    [Fact]
    public async Task A_context_reads_the_document_once_and_only_once_it_knows_the_permit()
    {
        using var world = new AccessWorld();
        var early = Context(Holder, Upload, source: world.Source);
        var sourceless = Context(Holder, Upload);
        sourceless.Permit = new ProjectPermit(PermitId, ProjectId, "HDAB-1", "Study", PermitStates.Active, 1, ValidFrom, ValidUntil);
        var admitted = Admitted(world, Holder, Upload, Roles("data-holder"));

        Assert.Equal("The permit is not known yet.", (await Assert.ThrowsAsync<InvalidOperationException>(async () => await early.DocumentAsync(CancellationToken.None))).Message);
        Assert.Equal("No source to read the permit's document from.",
            (await Assert.ThrowsAsync<InvalidOperationException>(async () => await sourceless.DocumentAsync(CancellationToken.None))).Message);
        Assert.Same(await admitted.DocumentAsync(CancellationToken.None), await admitted.DocumentAsync(CancellationToken.None));
        Assert.Equal(1, world.Source.DocumentReads);
        Assert.Equal("The action is not declared.", Assert.Throws<InvalidOperationException>(() => Context(Holder, null).Action).Message);
        Assert.Equal("request", Assert.Throws<ArgumentNullException>(() => new AccessContext(null!)).ParamName);
    }
}
