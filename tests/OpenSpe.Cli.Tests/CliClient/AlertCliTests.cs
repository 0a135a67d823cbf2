using System.CommandLine;
using System.Net;
using System.Text.Json;
using OpenSpe.Cli.Commands;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary><c>spe alert list|ack|incident</c> against the fake server (<see cref="FakeSpeServer"/>): the requests sent and what a person reads.</summary>
public sealed class AlertCliTests : IDisposable
{
    private const string Alert = """{"id":"alt-1","rule":"signin-failures-per-account","groupBy":"account","key":"researcher","value":5,"threshold":5,"windowSeconds":900,"firedAt":"2026-03-01T12:00:00Z","description":"d","projectId":null,"auditSequence":7,"state":"open","acknowledgedAt":null,"acknowledgedBy":null,"note":null,"incidentId":null}""";
    private const string Acked = """{"id":"alt-1","rule":"signin-failures-per-account","groupBy":"account","key":"researcher","value":5,"threshold":5,"windowSeconds":900,"firedAt":"2026-03-01T12:00:00Z","description":"d","projectId":null,"auditSequence":7,"state":"acknowledged","acknowledgedAt":"2026-03-01T12:05:00Z","acknowledgedBy":"operator","note":"called the researcher","incidentId":null}""";

    private readonly ClientHarness _harness = new();

    public AlertCliTests() => _harness.SignIn();

    public void Dispose() => _harness.Dispose();

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Alert_list_open_asks_for_open_alerts_and_shows_a_table()
    {
        _harness.Server.Routes["GET /api/v1/alerts"] = (HttpStatusCode.OK, """{"items":[""" + Alert + """],"nextBefore":null}""");

        var (code, stdout, _) = await RunAsync("alert", "list", "--open");

        Assert.Equal(0, code);
        Assert.Equal("GET /api/v1/alerts", _harness.Server.Requests.Single());
        Assert.Equal("/api/v1/alerts?state=open", _harness.Server.PathsWithQuery.Single());
        Assert.DoesNotContain("More alerts", stdout, StringComparison.Ordinal);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^ID +FIRED +RULE +KEY +VALUE +STATE +INCIDENT$", lines[0]);
        Assert.Matches("^alt-1 +2026-03-01 12:00:00Z +signin-failures-per-account +researcher +5 +open +-$", lines[1]);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Alert_list_json_is_the_servers_answer()
    {
        _harness.Server.Routes["GET /api/v1/alerts"] = (HttpStatusCode.OK, """{"items":[""" + Alert + """],"nextBefore":null}""");

        var (code, stdout, _) = await RunAsync("alert", "list", "--json");

        Assert.Equal(0, code);
        Assert.Equal("alt-1", JsonDocument.Parse(stdout).RootElement.GetProperty("items")[0].GetProperty("id").GetString());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Alert_list_passes_limit_and_before_and_prints_how_to_get_the_next_page()
    {
        _harness.Server.Routes["GET /api/v1/alerts"] = (HttpStatusCode.OK, """{"items":[""" + Alert + """],"nextBefore":"alt-1"}""");

        var (code, stdout, _) = await RunAsync("alert", "list", "--limit", "1", "--before", "alt-0123456789abcdef");

        Assert.Equal(0, code);
        Assert.Equal("/api/v1/alerts?limit=1&before=alt-0123456789abcdef", _harness.Server.PathsWithQuery.Single());
        Assert.Contains("More alerts: spe alert list --before alt-1", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alert_list_with_a_limit_the_server_refuses_shows_its_400()
    {
        _harness.Server.Routes["GET /api/v1/alerts"] = (HttpStatusCode.BadRequest, PermitCli.Problem(400, "SPE1000", "limit: Must be a whole number from 1 to 500."));

        var (code, _, stderr) = await RunAsync("alert", "list", "--limit", "0");

        Assert.NotEqual(0, code);
        Assert.Contains("limit", stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Alert_rules_shows_what_each_rule_counts_or_checks_per_what_and_its_window()
    {
        _harness.Server.Routes["GET /api/v1/alerts/rules"] = (HttpStatusCode.OK, """
            [{"name":"signin-failures-per-account","check":null,"action":"auth.signin","outcome":"denied","groupBy":"account","threshold":5,"window":"00:15:00","description":"d"},
             {"name":"witness-stale","check":"WitnessAge","action":null,"outcome":null,"groupBy":"none","threshold":1,"window":"1.00:00:00","description":null},
             {"name":"odd","check":null,"action":"exports.*","outcome":null,"groupBy":"project","threshold":2,"window":"00:01:30.5000000","description":null}]
            """);

        var (code, stdout, _) = await RunAsync("alert", "rules");

        Assert.Equal(0, code);
        Assert.Equal("/api/v1/alerts/rules", _harness.Server.PathsWithQuery.Single());
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^RULE +WHAT +PER +THRESHOLD +WINDOW$", lines[0]);
        Assert.Matches("^signin-failures-per-account +auth\\.signin denied +account +5 +15 min$", lines[1]);
        Assert.Matches("^witness-stale +check WitnessAge +none +1 +1 d$", lines[2]);
        Assert.Matches("^odd +exports\\.\\* +project +2 +00:01:30\\.5000000$", lines[3]);
    }

    [Fact]
    public async Task Alert_rules_with_none_in_force_says_so()
    {
        _harness.Server.Routes["GET /api/v1/alerts/rules"] = (HttpStatusCode.OK, "[]");

        var (code, stdout, _) = await RunAsync("alert", "rules");

        Assert.Equal((0, "No alert rules in force.\n"), (code, stdout.ReplaceLineEndings("\n")));
    }

    [Fact]
    public async Task Alert_rules_refused_by_the_server_shows_its_code()
    {
        _harness.Server.Routes["GET /api/v1/alerts/rules"] = (HttpStatusCode.Forbidden, PermitCli.Problem(403, "SPE1003", "Your roles do not allow this."));

        var (code, stdout, stderr) = await RunAsync("alert", "rules");

        Assert.Equal((1, ""), (code, stdout));
        Assert.Contains("SPE1003", stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task Alert_ack_posts_the_note_and_shows_who_acknowledged()
    {
        _harness.Server.Routes["POST /api/v1/alerts/alt-1/acknowledge"] = (HttpStatusCode.OK, Acked);

        var (code, stdout, _) = await RunAsync("alert", "ack", "alt-1", "--note", "called the researcher");

        Assert.Equal(0, code);
        Assert.Equal("""{"note":"called the researcher"}""", _harness.Server.Bodies.Single());
        Assert.Matches("(?m)^Acknowledged by +operator$", stdout);
    }

    [Fact]
    public async Task Alert_ack_without_a_note_exits_2_before_any_request()
    {
        var (code, _, stderr) = await RunAsync("alert", "ack", "alt-1");

        Assert.Equal(2, code);
        Assert.StartsWith("spe: ", stderr, StringComparison.Ordinal);
        Assert.Empty(_harness.Server.Requests);
    }

    [Fact]
    public async Task Alert_ack_twice_shows_the_servers_refusal_with_its_code()
    {
        _harness.Server.Routes["POST /api/v1/alerts/alt-1/acknowledge"] = (HttpStatusCode.Conflict, PermitCli.Problem(409, "SPE8100", "The alert was already acknowledged by operator."));

        var (code, _, stderr) = await RunAsync("alert", "ack", "alt-1", "--note", "again");

        Assert.NotEqual(0, code);
        Assert.Contains("SPE8100", stderr, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var root = new RootCommand("spe (alert verbs under test)") { AlertCommands.Create(_harness.Environment) };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            return (2, "", string.Join('\n', parse.Errors.Select(e => "spe: " + e.Message)));
        }

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, TestContext.Current.CancellationToken);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
