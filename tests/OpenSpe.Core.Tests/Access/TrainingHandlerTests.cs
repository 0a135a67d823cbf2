using OpenSpe.Core.Access;
using static OpenSpe.Core.Tests.Access.AccessWorld;

namespace OpenSpe.Core.Tests.Access;

/// <summary>
/// The training step (OPR-23): when required, a person needs a valid record for the role they act in (a permit role the
/// action allows, their oversight role, or output checker as a reviewer); an application takes no course.
/// </summary>
public sealed class TrainingHandlerTests
{
    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task Without_a_record_the_person_is_refused_naming_the_role_and_whom_to_ask()
    {
        using var world = new AccessWorld();
        var chain = new AccessChain(world.Source, world.Halts, world.Clock, new Records(required: true));

        var decision = await chain.DecideAsync(Request(Researcher, Show), CancellationToken.None);

        var refusal = Assert.IsType<AccessRefusal>(decision.Refusal);
        Assert.Equal(AccessRefusalKind.TrainingMissing, refusal.Kind);
        Assert.Equal(403, refusal.Status);
        Assert.Equal("training-missing", refusal.Reason);
        Assert.Contains("researcher", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("HDAB officer or an SPE admin", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task An_expired_record_is_refused_as_expired_and_a_valid_one_passes()
    {
        using var world = new AccessWorld();
        var today = DateOnly.FromDateTime(world.Clock.GetUtcNow().UtcDateTime);
        var records = new Records(required: true).Add("id-res", "researcher", today.AddYears(-2), today);
        var chain = new AccessChain(world.Source, world.Halts, world.Clock, records);

        var expired = await chain.DecideAsync(Request(Researcher, Show), CancellationToken.None);
        records.Add("id-res", "researcher", today.AddDays(-1), today.AddDays(1));
        using var granted = (await chain.DecideAsync(Request(Researcher, Show), CancellationToken.None)).Grant;

        Assert.Equal("training-expired", expired.Refusal?.Reason);
        Assert.Contains("expired", expired.Refusal!.Message, StringComparison.Ordinal);
        Assert.NotNull(granted);
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task Training_for_another_role_does_not_count_and_oversight_needs_its_own()
    {
        using var world = new AccessWorld();
        var today = DateOnly.FromDateTime(world.Clock.GetUtcNow().UtcDateTime);
        var records = new Records(required: true).Add("id-res", "data-holder", today, null).Add("id-hdab", "researcher", today, null);
        var chain = new AccessChain(world.Source, world.Halts, world.Clock, records);

        var researcher = await chain.DecideAsync(Request(Researcher, Show), CancellationToken.None);
        var hdab = await chain.DecideAsync(Request(Hdab, Show), CancellationToken.None);
        records.Add("id-hdab", "hdab", today, null);
        using var hdabTrained = (await chain.DecideAsync(Request(Hdab, Show), CancellationToken.None)).Grant;

        Assert.Equal("training-missing", researcher.Refusal?.Reason);
        Assert.Equal("training-missing", hdab.Refusal?.Reason);
        Assert.Contains("hdab", hdab.Refusal!.Message, StringComparison.Ordinal);
        Assert.NotNull(hdabTrained);
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task Not_required_lets_everyone_through_and_an_application_is_never_asked()
    {
        using var world = new AccessWorld();
        var off = new AccessChain(world.Source, world.Halts, world.Clock, new Records(required: false));
        var on = new AccessChain(world.Source, world.Halts, world.Clock, new Records(required: true));

        using var researcher = (await off.DecideAsync(Request(Researcher, Show), CancellationToken.None)).Grant;
        using var app = (await on.DecideAsync(Request(App, Datasets), CancellationToken.None)).Grant;

        Assert.NotNull(researcher);
        Assert.NotNull(app);
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task A_person_without_an_account_id_is_refused()
    {
        using var world = new AccessWorld();
        var today = DateOnly.FromDateTime(world.Clock.GetUtcNow().UtcDateTime);
        var context = new AccessContext(Request(AccessPrincipal.Person(null, true, ["researcher"]), Show)) { MemberRoles = new HashSet<string> { "researcher" } };

        var refusal = await new OpenSpe.Core.Access.Handlers.TrainingHandler(new Records(required: true).Add("", "researcher", today, null), world.Clock)
            .HandleAsync(context, CancellationToken.None);

        Assert.Equal("training-missing", refusal?.Reason);
    }

    private sealed class Records(bool required) : ITrainingRecords
    {
        private readonly List<(string Account, string Role, DateOnly Completed, DateOnly? Expires)> _records = [];

        public bool Required { get; } = required;

        public Records Add(string account, string role, DateOnly completed, DateOnly? expires)
        {
            _records.Add((account, role, completed, expires));
            return this;
        }

        public Task<TrainingStanding> StandingAsync(string accountId, IReadOnlyCollection<string> roles, DateOnly today, CancellationToken cancellationToken)
        {
            var mine = _records.Where(r => r.Account == accountId && roles.Contains(r.Role) && r.Completed <= today).ToList();
            return Task.FromResult(mine.Any(r => r.Expires is not { } e || e > today) ? TrainingStanding.Valid
                : mine.Count > 0 ? TrainingStanding.Expired : TrainingStanding.Missing);
        }
    }
}
