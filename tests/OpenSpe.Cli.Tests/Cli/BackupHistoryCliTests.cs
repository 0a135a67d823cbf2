using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenSpe.Cli.Tests.UploadCli;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// <c>spe backup history</c> against a real server (OPR-27): operators and auditors see the backups and the drills
/// recorded; every other role gets the server's refusal and nothing on standard output; a bad limit is the server's 400.
/// </summary>
public sealed class BackupHistoryCliTests : IAsyncLifetime
{
    private PermitFixture _f = null!;

    public async ValueTask InitializeAsync() => _f = await PermitFixture.StartAsync();

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task Operators_and_auditors_see_the_drills_recorded()
    {
        using var op = await _f.Server.ClientForAccountAsync("operator");
        await using var auditor = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync("auditor"));
        var (emptyCode, empty, _) = await auditor.RunAsync("backup", "history");
        var recorded = await op.PostAsJsonAsync("/api/v1/operations/backups/drills",
            new { backup = "spe-backup-20261129T060000Z", passed = false, backupCreatedAt = PermitFixture.Start.AddHours(-6), auditRecords = 12, readyStatus = 503, problem = "not ready" },
            TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await auditor.RunAsync("backup", "history");
        var (jsonCode, json, _) = await auditor.RunAsync("backup", "history", "--json");

        Assert.Equal(0, emptyCode);
        Assert.Contains("No backups or drills recorded.", empty, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, recorded.StatusCode);
        Assert.True(code == 0, stderr);
        Assert.Contains("spe-backup-20261129T060000Z", stdout, StringComparison.Ordinal);
        Assert.Contains("FAILED (by operator)", stdout, StringComparison.Ordinal);
        Assert.Equal(0, jsonCode);
        var drill = JsonDocument.Parse(json).RootElement.GetProperty("lastDrill");
        Assert.Equal("error", drill.GetProperty("outcome").GetString());
        Assert.Equal("not ready", drill.GetProperty("details").GetProperty("problem").GetString());
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task Verify_with_record_writes_the_drills_outcome_passed_or_failed_as_the_signed_in_operator()
    {
        using var work = new TempDirectory();
        // The fixture's clock starts before the real one; the backup is made on the real clock, and a drill of a backup from the
        // server's future is refused.
        _f.Clock.Advance(DateTimeOffset.UtcNow - _f.Clock.GetUtcNow() + TimeSpan.FromMinutes(1));
        var data = Path.Combine(_f.Server.DataDirectory, "data");
        var keygen = await SpeProcess.RunAsync("crypt4gh", "keygen", "--sk", work.File("backup.sec"), "--pk", work.File("backup.pub"), "--nocrypt");
        var create = await SpeProcess.RunAsync("backup", "create", "--data-dir", data, "--out", work.File("spe-backup-drill"), "--recipient-pk", work.File("backup.pub"));
        await using var op = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync("operator"));
        await using var researcher = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync("researcher"));

        var passed = await op.RunAsync("backup", "verify", work.File("spe-backup-drill"), "--sk", work.File("backup.sec"), "--record");
        // A researcher's drill passes offline but cannot be recorded: the server refuses it, and the command says so.
        var refused = await researcher.RunAsync("backup", "verify", work.File("spe-backup-drill"), "--sk", work.File("backup.sec"), "--record");
        var piece = Directory.EnumerateFiles(work.File("spe-backup-drill/pieces")).Order(StringComparer.Ordinal).Last();
        var bytes = await File.ReadAllBytesAsync(piece);
        bytes[^5] ^= 0x40;
        await File.WriteAllBytesAsync(piece, bytes);
        var tampered = await op.RunAsync("backup", "verify", work.File("spe-backup-drill"), "--sk", work.File("backup.sec"), "--record");
        var (_, json, _) = await op.RunAsync("backup", "history", "--json");

        Assert.Equal(0, keygen.ExitCode);
        Assert.True(create.ExitCode == 0, create.Stderr);
        Assert.True(passed.Code == 0, passed.Stderr + passed.Stdout);
        Assert.Contains("the drill of spe-backup-drill is recorded", passed.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(0, refused.Code);
        Assert.DoesNotContain("is recorded", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, tampered.Code);
        Assert.Contains("recorded in the audit log as failed", tampered.Stderr, StringComparison.Ordinal);
        var named = $"({Path.Combine("pieces", Path.GetFileName(piece))})";
        Assert.Contains(named, tampered.Stderr, StringComparison.Ordinal);
        // Newest first: the failed drill (an altered piece, its problem named), then the one that passed; the researcher's is not there.
        var drills = JsonDocument.Parse(json).RootElement.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "drill").ToList();
        Assert.Equal([("spe-backup-drill", "error", "operator"), ("spe-backup-drill", "success", "operator")],
            drills.Select(d => (d.GetProperty("backup").GetString(), d.GetProperty("outcome").GetString(), d.GetProperty("recordedBy").GetString())));
        Assert.Contains(named, drills[0].GetProperty("details").GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.False(drills[0].GetProperty("details").TryGetProperty("backupCreatedAt", out _));
    }

    [Theory]
    [Trait("Requirement", "OPR-27")]
    [InlineData("researcher")]
    [InlineData("holder")]
    [InlineData("hdab")]
    [InlineData("admin")]
    public async Task Other_roles_get_the_refusal_and_nothing_on_standard_output(string account)
    {
        await using var caller = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync(account));

        var (code, stdout, stderr) = await caller.RunAsync("backup", "history");

        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("spe: ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task A_limit_out_of_range_is_the_servers_field_error()
    {
        await using var op = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync("operator"));

        var (code, stdout, stderr) = await op.RunAsync("backup", "history", "--limit", "0");

        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.Contains("limit", stderr, StringComparison.Ordinal);
    }
}
