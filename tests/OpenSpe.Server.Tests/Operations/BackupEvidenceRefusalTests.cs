using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Operations.Backups;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// The refusals around the backup evidence (OPR-27): every role but operators and auditors neither reads it nor records a
/// drill, auditors do not record one, no token or no second factor gets nothing, malformed records and drills whose outcome
/// disagrees with their facts are a 400 problem; in
/// each case no drill is recorded. Note: nothing here records, so the cases share one server (<see cref="BackupEvidenceServer"/>);
/// the cases that back up or record are in <see cref="ScheduledBackupTests"/>, a server each.
/// </summary>
public sealed class BackupEvidenceRefusalTests(BackupEvidenceServer shared) : IAsyncLifetime, IClassFixture<BackupEvidenceServer>
{
    private PermitFixture F { get; set; } = null!;

    public async ValueTask InitializeAsync() => F = await shared.FixtureAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Theory]
    [Trait("Requirement", "OPR-27")]
    [InlineData("researcher")]
    [InlineData("holder")]
    [InlineData("checker")]
    [InlineData("hdab")]
    [InlineData("admin")]
    public async Task Other_roles_neither_read_the_evidence_nor_record_a_drill(string account)
    {
        using var client = await F.Server.ClientForAccountAsync(account);

        var read = await client.GetAsync("/api/v1/operations/backups");
        var record = await client.PostAsJsonAsync("/api/v1/operations/backups/drills", Drill("spe-backup-20261129T120000Z"));

        await ProblemAssert.IsProblemAsync(read, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(record, HttpStatusCode.Forbidden);
        Assert.Empty(await Audit(BackupEvidenceEndpoints.DrillAction));
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task Auditors_cannot_record_a_drill_and_no_token_or_no_second_factor_gets_nothing()
    {
        using var auditor = await F.Server.ClientForAccountAsync("auditor");
        using var passwordOnly = F.Server.ClientWithToken(await F.Server.PasswordOnlyTokenAsync("operator-no-mfa", "operator"));

        var byAuditor = await auditor.PostAsJsonAsync("/api/v1/operations/backups/drills", Drill("spe-backup-20261129T120000Z"));
        var noToken = await F.Server.Client.GetAsync("/api/v1/operations/backups");
        var noSecondFactor = await passwordOnly.PostAsJsonAsync("/api/v1/operations/backups/drills", Drill("spe-backup-20261129T120000Z"));

        await ProblemAssert.IsProblemAsync(byAuditor, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(noToken, HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(noSecondFactor, HttpStatusCode.Forbidden);
        Assert.Empty(await Audit(BackupEvidenceEndpoints.DrillAction));
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task Malformed_drill_records_are_a_400_problem_and_record_nothing()
    {
        using var op = await F.Server.ClientForAccountAsync("operator");

        var path = await op.PostAsJsonAsync("/api/v1/operations/backups/drills", Drill("../etc/passwd"));
        var empty = await op.PostAsJsonAsync("/api/v1/operations/backups/drills", Drill(""));
        var future = await op.PostAsJsonAsync("/api/v1/operations/backups/drills", Drill("spe-backup-x") with { BackupCreatedAt = PermitFixture.Start.AddDays(1) });
        var negative = await op.PostAsJsonAsync("/api/v1/operations/backups/drills", Drill("spe-backup-x") with { AuditRecords = -1 });
        // Only a drill that failed before its manifest was read may leave out when the backup was made.
        var passedWithoutManifest = await op.PostAsJsonAsync("/api/v1/operations/backups/drills", Drill("spe-backup-x") with { BackupCreatedAt = null });
        var notJson = await op.PostAsync("/api/v1/operations/backups/drills", new StringContent("{not json", Encoding.UTF8, "application/json"));
        var badLimit = await op.GetAsync("/api/v1/operations/backups?limit=0");

        foreach (var invalid in new[] { path, empty, future, negative, passedWithoutManifest, notJson, badLimit })
        {
            await ProblemAssert.IsProblemAsync(invalid, HttpStatusCode.BadRequest);
        }

        Assert.Empty(await Audit(BackupEvidenceEndpoints.DrillAction));
    }

    [Theory]
    [Trait("Requirement", "OPR-27")]
    [InlineData(true, 1234, 503, null, "readyStatus")]
    [InlineData(true, 1234, 0, null, "readyStatus")]
    [InlineData(true, 0, 200, null, "auditRecords")]
    [InlineData(true, 1234, 200, "record 4: hash does not match", "problem")]
    [InlineData(true, 0, 503, "readyz answered 503", "readyStatus")]
    [InlineData(false, 1234, 200, null, "problem")]
    [InlineData(false, 1234, 200, "  ", "problem")]
    public async Task A_drill_whose_outcome_disagrees_with_its_facts_is_a_400_at_the_field_and_records_nothing(bool passed, long auditRecords, int readyStatus, string? problem,
        string field)
    {
        using var op = await F.Server.ClientForAccountAsync("operator");

        var response = await op.PostAsJsonAsync("/api/v1/operations/backups/drills",
            new OpenSpe.Contracts.BackupDrillRecordRequest("spe-backup-20261129T120000Z", passed, PermitFixture.Start.AddHours(-1), auditRecords, readyStatus, problem));

        var body = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(OpenSpe.Contracts.ErrorCodes.ValidationFailed, body.GetProperty("code").GetString());
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out _), body.ToString());
        Assert.Empty(await Audit(BackupEvidenceEndpoints.DrillAction));
    }

    private static OpenSpe.Contracts.BackupDrillRecordRequest Drill(string backup) => new(backup, true, PermitFixture.Start.AddHours(-1), 1234, 200);

    private async Task<List<OpenSpe.Core.Audit.AuditRow>> Audit(string action) =>
        await F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: action));
}

/// <summary>One server for <see cref="BackupEvidenceRefusalTests"/>.</summary>
public sealed class BackupEvidenceServer : IAsyncDisposable
{
    private readonly SharedStart<PermitFixture> _server = new(() => PermitFixture.StartAsync());

    public Task<PermitFixture> FixtureAsync() => _server.GetAsync();

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
