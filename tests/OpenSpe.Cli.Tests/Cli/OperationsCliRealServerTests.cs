using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Cli.Tests.UploadCli;
using OpenSpe.Contracts;
using OpenSpe.Server.Monitoring.Alerts;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// <c>spe training record|list</c>, <c>spe operations components</c>, <c>spe alert incident</c> and <c>spe incident notify</c> against the real server
/// (HTTPS on loopback, a real sign-in): each verb's success as a person reads it, and a refusal each with the server's
/// code and nothing changed.
/// </summary>
public sealed class OperationsCliRealServerTests : IAsyncLifetime
{
    private PermitFixture _f = null!;

    public async ValueTask InitializeAsync() =>
        // Note: no shipped alert rules, so that only the alert a test stores is there; one rule of the operator's own, on an
        // action nothing here does, so that the rules in force are exactly it.
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Alerts:Defaults"] = "false",
            ["Alerts:Rules:0:Name"] = "night-exports",
            ["Alerts:Rules:0:Action"] = "exports.never-done-here",
            ["Alerts:Rules:0:Outcome"] = "success",
            ["Alerts:Rules:0:GroupBy"] = "Project",
            ["Alerts:Rules:0:Threshold"] = "3",
            ["Alerts:Rules:0:Window"] = "02:00:00",
        });

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task An_hdab_officer_records_training_and_lists_it_with_its_status()
    {
        await using var hdab = await HarnessAsync("hdab");

        var (code, stdout, stderr) = await hdab.RunAsync("training", "record", "--account", "researcher", "--role", "researcher", "--course", "Safe data use",
            "--completed", "2026-01-10", "--expires", "2027-01-10");
        var (listCode, list, listErr) = await hdab.RunAsync("training", "list", "--account", "researcher");
        var (jsonCode, json, _) = await hdab.RunAsync("training", "list", "--account", "researcher", "--json");

        Assert.True(code == 0, stderr);
        Assert.Matches("^Recorded training [0-9]+ for researcher as researcher: Safe data use, completed 2026-01-10, expires 2027-01-10 \\(valid\\)\\.\n$", stdout);
        Assert.True(listCode == 0, listErr);
        var lines = list.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^ID +ACCOUNT +ROLE +COURSE +COMPLETED +EXPIRES +STATUS +RECORDED BY$", lines[0]);
        Assert.Matches("^[0-9]+ +researcher +researcher +Safe data use +2026-01-10 +2027-01-10 +valid +hdab$", Assert.Single(lines[1..]));
        Assert.Equal(0, jsonCode);
        Assert.Equal("Safe data use", JsonDocument.Parse(json).RootElement[0].GetProperty("course").GetString());
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task Recording_ones_own_training_is_refused_with_the_servers_code_and_nothing_is_recorded()
    {
        await using var hdab = await HarnessAsync("hdab");

        var (code, stdout, stderr) = await hdab.RunAsync("training", "record", "--account", "hdab", "--role", "hdab", "--course", "HDAB duties", "--completed", "2026-01-10");
        var (_, list, _) = await hdab.RunAsync("training", "list", "--account", "hdab", "--json");

        Assert.Equal((1, ""), (code, stdout));
        Assert.Matches($@"^spe: You cannot record your own training.+\({ErrorCodes.TrainingOwnRecord}, trace [0-9a-f]{{32}}\)\n$", stderr);
        Assert.Equal(0, JsonDocument.Parse(list).RootElement.GetArrayLength());
    }

    [Fact]
    [Trait("Requirement", "OPR-4")]
    [Trait("Requirement", "OPR-28")]
    [Trait("Requirement", "FCR-4")]
    public async Task An_operator_reads_the_component_inventory_and_a_researcher_is_refused()
    {
        await using var op = await HarnessAsync("operator");
        await using var researcher = await HarnessAsync("researcher");

        var (code, stdout, stderr) = await op.RunAsync("operations", "components");
        var (refusedCode, refusedOut, refusedErr) = await researcher.RunAsync("operations", "components");

        Assert.True(code == 0, stderr);
        Assert.Matches($"(?m)^Runtime +{System.Text.RegularExpressions.Regex.Escape(System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription)}$", stdout);
        Assert.Matches("(?m)^PACKAGE +VERSION +KNOWN VULNERABLE$", stdout);
        Assert.Matches("(?m)^Pkcs11Interop +5\\.3\\.0 +no$", stdout);
        // The identity a permit's approvedComponents entry must carry for this SPE to run a built-in federated component, in full.
        var runner = OpenSpe.Server.Federation.FederatedComponentIdentity.Runner!;
        Assert.Matches("(?m)^FEDERATED COMPONENT +VERSION +SHA-256 +ALLOWED HERE$", stdout);
        Assert.Matches($"(?m)^openspe\\.glm +{System.Text.RegularExpressions.Regex.Escape(runner.Version)} +{runner.Sha256} +(yes|no)$", stdout);
        Assert.Equal((1, ""), (refusedCode, refusedOut));
        Assert.Matches(@"^spe: .+ \(SPE\d{4}, trace [0-9a-f]{32}\)\n$", refusedErr);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-13")]
    public async Task Operators_and_auditors_list_the_alert_rules_in_force_and_a_researcher_is_refused()
    {
        await using var op = await HarnessAsync("operator");
        await using var auditor = await HarnessAsync("auditor");
        await using var researcher = await HarnessAsync("researcher");

        var (code, stdout, stderr) = await op.RunAsync("alert", "rules");
        var (auditorCode, auditorOut, auditorErr) = await auditor.RunAsync("alert", "rules", "--json");
        var (refusedCode, refusedOut, refusedErr) = await researcher.RunAsync("alert", "rules");

        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^RULE +WHAT +PER +THRESHOLD +WINDOW$", lines[0]);
        Assert.Matches("^night-exports +exports\\.never-done-here success +project +3 +2 h$", Assert.Single(lines[1..]));
        Assert.True(auditorCode == 0, auditorErr);
        var rule = Assert.Single(JsonDocument.Parse(auditorOut).RootElement.EnumerateArray());
        Assert.Equal(("night-exports", "02:00:00"), (rule.GetProperty("name").GetString(), rule.GetProperty("window").GetString()));
        Assert.Equal((1, ""), (refusedCode, refusedOut));
        Assert.Matches(@"^spe: .+ \(SPE\d{4}, trace [0-9a-f]{32}\)\n$", refusedErr);
    }

    [Fact]
    [Trait("Requirement", "OPR-18")]
    [Trait("Requirement", "EHDSR-9")]
    public async Task An_operator_opens_an_incident_from_an_alert_once_and_the_second_time_is_refused()
    {
        var id = await SeedAlertAsync();
        await using var op = await HarnessAsync("operator");
        await using var auditor = await HarnessAsync("auditor");

        var (code, stdout, stderr) = await op.RunAsync("alert", "incident", id, "--severity", "high", "--title", "Many failed sign-ins");
        var (againCode, againOut, againErr) = await op.RunAsync("alert", "incident", id, "--severity", "high");
        var (auditorCode, _, auditorErr) = await auditor.RunAsync("alert", "incident", id, "--severity", "low");
        var (_, incidents, _) = await op.RunAsync("incident", "list", "--json");

        Assert.True(code == 0, stderr);
        Assert.Matches($"(?m)^Alert +{id}$", stdout);
        Assert.Matches("(?m)^Incident +inc-[0-9a-f]{16}$", stdout);
        Assert.Equal((1, ""), (againCode, againOut));
        Assert.Contains($"({ErrorCodes.AlertIncidentExists}, trace ", againErr, StringComparison.Ordinal);
        Assert.Equal(1, auditorCode);
        Assert.Matches(@"^spe: .+ \(SPE\d{4}, trace [0-9a-f]{32}\)\n$", auditorErr);
        var incident = Assert.Single(JsonDocument.Parse(incidents).RootElement.EnumerateArray());
        Assert.Equal("Many failed sign-ins", incident.GetProperty("title").GetString());
    }

    [Fact]
    [Trait("Requirement", "OPR-18")]
    public async Task A_notification_file_with_a_byte_order_mark_is_recorded_with_the_sha256_of_the_file_itself()
    {
        await using var op = await HarnessAsync("operator");
        using var work = new TempDirectory();
        byte[] file = [0xEF, 0xBB, 0xBF, .. "Early warning: unusual downloads.\r\nAccount disabled; café closed.\n"u8];
        await File.WriteAllBytesAsync(work.File("early-warning.txt"), file, TestContext.Current.CancellationToken);
        var id = await OpenIncidentAsync(op);

        var (code, _, stderr) = await op.RunAsync("incident", "notify", id, "--stage", "early-warning", "--to", "hdab-incidents@hdab.example", "--content-file", work.File("early-warning.txt"));
        var (_, shown, _) = await op.RunAsync("incident", "show", id, "--json");

        Assert.True(code == 0, stderr);
        var notification = Assert.Single(JsonDocument.Parse(shown).RootElement.GetProperty("notifications").EnumerateArray());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file)), notification.GetProperty("contentSha256").GetString());
    }

    [Theory]
    [Trait("Requirement", "OPR-18")]
    [InlineData("utf-16 with its byte-order mark")]
    [InlineData("utf-16 without one")]
    [InlineData("latin-1")]
    public async Task A_notification_file_that_is_not_utf8_is_refused_as_bad_usage_and_nothing_is_recorded(string encoding)
    {
        await using var op = await HarnessAsync("operator");
        using var work = new TempDirectory();
        var text = "Early warning: unusual downloads; café closed.\n";
        byte[] file = encoding switch
        {
            "utf-16 with its byte-order mark" => [.. System.Text.Encoding.Unicode.GetPreamble(), .. System.Text.Encoding.Unicode.GetBytes(text)],
            "utf-16 without one" => System.Text.Encoding.Unicode.GetBytes(text),
            _ => System.Text.Encoding.Latin1.GetBytes(text),
        };
        await File.WriteAllBytesAsync(work.File("early-warning.txt"), file, TestContext.Current.CancellationToken);
        var id = await OpenIncidentAsync(op);

        var (code, stdout, stderr) = await op.RunAsync("incident", "notify", id, "--stage", "early-warning", "--to", "hdab-incidents@hdab.example", "--content-file", work.File("early-warning.txt"));
        var (_, shown, _) = await op.RunAsync("incident", "show", id, "--json");

        Assert.Equal((2, ""), (code, stdout));
        Assert.StartsWith($"spe: --content-file {work.File("early-warning.txt")} is not UTF-8 text", stderr, StringComparison.Ordinal);
        Assert.Equal(0, JsonDocument.Parse(shown).RootElement.GetProperty("notifications").GetArrayLength());
    }

    private static async Task<string> OpenIncidentAsync(UploadHarness op)
    {
        var (code, opened, stderr) = await op.RunAsync("incident", "open", "--title", "Unusual downloads", "--description", "Many downloads in an hour", "--severity", "high", "--json");
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(opened).RootElement.GetProperty("id").GetString()!;
    }

    private async Task<UploadHarness> HarnessAsync(string account) => UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync(account));

    /// <summary>Stores an alert as the dispatcher does after a rule fired (the firing itself is the server tests' part).</summary>
    private async Task<string> SeedAlertAsync()
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var alert = new AlertEntity
        {
            Id = "alt-" + Guid.NewGuid().ToString("N")[..16],
            Rule = "signin-failures-per-account",
            GroupBy = "account",
            Key = "researcher",
            Value = 5,
            Threshold = 5,
            WindowSeconds = 900,
            FiredAt = PermitFixture.Start,
            Description = "seeded",
            Revision = Guid.NewGuid(),
        };
        database.Add(alert);
        await database.SaveChangesAsync(TestContext.Current.CancellationToken);
        return alert.Id;
    }
}
