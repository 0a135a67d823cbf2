using System.Net;
using System.Text.Json;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary><c>spe halt</c> and <c>spe resume</c> against the fake server (<see cref="FakeSpeServer"/>): exactly one scope, a reason to halt, the two-person refusal shown.</summary>
public sealed class HaltCliTests : IDisposable
{
    private const string HaltAnswer = """{"id":"h-1","scope":"project","projectId":"p-0042","reason":"suspected exfiltration","haltedBy":"operator","haltedAt":"2026-03-01T12:00:00Z"}""";

    private readonly ClientHarness _harness = new();

    public HaltCliTests() => _harness.SignIn();

    [Theory]
    [InlineData("halt", "--reason", "r")]
    [InlineData("halt", "--project", "p-0042", "--all", "--reason", "r")]
    [InlineData("halt", "--project", "p-0042")]
    [InlineData("halt", "--all", "--reason", " ")]
    [InlineData("halt", "--project", "", "--reason", "r")]
    [InlineData("halt", "--list", "--all")]
    [InlineData("resume")]
    [InlineData("resume", "--project", "p-0042", "--all")]
    public async Task Fake_server_halt_and_resume_need_exactly_one_of_project_and_all_else_exit_2_before_any_request(params string[] args)
    {
        var (code, stdout, stderr) = await _harness.RunPermitVerbAsync(args);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("spe: ", stderr, StringComparison.Ordinal);
        Assert.Contains($"'spe {args[0]} --help'", stderr, StringComparison.Ordinal);
        Assert.Empty(_harness.Server.Requests);
    }

    [Fact]
    public async Task Fake_server_halt_project_posts_the_scope_and_reason_and_says_who_can_lift_it()
    {
        _harness.Server.Routes["POST /api/v1/halts"] = (HttpStatusCode.Created, HaltAnswer);

        var (code, stdout, stderr) = await _harness.RunPermitVerbAsync("halt", "--project", "p-0042", "--reason", "suspected exfiltration");

        Assert.Equal(0, code);
        Assert.Equal("""{"projectId":"p-0042","reason":"suspected exfiltration"}""", _harness.Server.Bodies.Single());
        Assert.Matches("(?m)^Halt +h-1$", stdout);
        Assert.Matches("(?m)^Halted by +operator$", stdout);
        Assert.Contains("spe resume --project p-0042", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fake_server_halt_all_sends_a_null_project_and_json_is_the_servers_answer()
    {
        _harness.Server.Routes["POST /api/v1/halts"] = (HttpStatusCode.Created,
            """{"id":"h-7","scope":"all","projectId":null,"reason":"ransomware","haltedBy":"operator","haltedAt":"2026-03-01T12:00:00Z"}""");

        var (code, stdout, _) = await _harness.RunPermitVerbAsync("halt", "--all", "--reason", "ransomware", "--json");

        Assert.Equal(0, code);
        Assert.Equal("""{"projectId":null,"reason":"ransomware"}""", _harness.Server.Bodies.Single());
        using var document = JsonDocument.Parse(stdout);
        Assert.Equal(("all", "h-7"), (document.RootElement.GetProperty("scope").GetString(), document.RootElement.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Fake_server_halt_list_shows_the_active_halts()
    {
        _harness.Server.Routes["GET /api/v1/halts"] = (HttpStatusCode.OK, "[" + HaltAnswer + "]");

        var (code, stdout, _) = await _harness.RunPermitVerbAsync("halt", "--list");

        Assert.Equal(0, code);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^ID +SCOPE +PROJECT +REASON +HALTED BY +HALTED AT$", lines[0]);
        Assert.Matches("^h-1 +project +p-0042 +suspected exfiltration +operator +2026-03-01 12:00:00Z$", lines[1]);
    }

    [Fact]
    public async Task Fake_server_resume_posts_the_scope_and_prints_the_halts_lifted()
    {
        _harness.Server.Routes["POST /api/v1/halts/resume"] = (HttpStatusCode.OK, """{"resumed":["h-1","h-2"]}""");

        var (code, stdout, _) = await _harness.RunPermitVerbAsync("resume", "--project", "p-0042");
        var (allCode, _, _) = await _harness.RunPermitVerbAsync("resume", "--all");

        Assert.Equal((0, 0), (code, allCode));
        Assert.Equal(["RESUMED HALT", "h-1", "h-2"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["""{"projectId":"p-0042"}""", """{"projectId":null}"""], _harness.Server.Bodies);
    }

    [Fact]
    public async Task Fake_server_resume_with_nothing_halted_says_so_and_succeeds()
    {
        _harness.Server.Routes["POST /api/v1/halts/resume"] = (HttpStatusCode.OK, """{"resumed":[]}""");

        var (code, stdout, stderr) = await _harness.RunPermitVerbAsync("resume", "--all");

        Assert.Equal(0, code);
        Assert.Equal("No active halt of everything to lift.\n", stdout);
        Assert.Equal("", stderr);
    }

    [Theory]
    [InlineData("GET /api/v1/halts", "No active halts.", "halt", "--list")]
    [InlineData("GET /api/v1/projects", "No projects.", "project", "list")]
    [InlineData("GET /api/v1/permits", "No permits.", "permit", "list")]
    public async Task Fake_server_an_empty_list_says_so_in_one_line_and_json_is_an_empty_array(string route, string message, params string[] args)
    {
        _harness.Server.Routes[route] = (HttpStatusCode.OK, "[]");

        var (code, stdout, stderr) = await _harness.RunPermitVerbAsync(args);
        var (jsonCode, json, _) = await _harness.RunPermitVerbAsync([.. args, "--json"]);

        Assert.Equal((0, 0), (code, jsonCode));
        Assert.Equal(message + "\n", stdout);
        Assert.Equal("", stderr);
        Assert.Equal("[]", json.Trim());
    }

    [Fact]
    public async Task Fake_server_resume_by_the_person_who_halted_exits_1_with_the_refusal()
    {
        _harness.Server.Routes["POST /api/v1/halts/resume"] = (HttpStatusCode.Forbidden,
            PermitCli.Problem(403, "SPE1006", "A halt must be lifted by a different person than the one who halted it, or by hdab"));

        var (code, stdout, stderr) = await _harness.RunPermitVerbAsync("resume", "--project", "p-0042");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("spe: A halt must be lifted by a different person than the one who halted it, or by hdab (SPE1006, trace 4bf92f3577b34da6a3ce929d0e0e4736)\n", stderr);
    }

    [Fact]
    public async Task Fake_server_a_halted_project_answers_423_and_the_verb_exits_1_with_the_problem()
    {
        _harness.Server.Routes["GET /api/v1/projects/p-0042"] = (HttpStatusCode.Locked, PermitCli.Problem(423, "SPE3001", "The project is halted"));

        var (code, _, stderr) = await _harness.RunPermitVerbAsync("project", "show", "p-0042");

        Assert.Equal(1, code);
        Assert.StartsWith("spe: The project is halted (SPE3001, trace ", stderr, StringComparison.Ordinal);
    }

    public void Dispose() => _harness.Dispose();
}
