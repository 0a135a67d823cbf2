using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenSpe.Cli.Commands;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>Runs <c>spe permit</c>, <c>spe project</c>, <c>spe halt</c> and <c>spe resume</c> in process against the harness's fake server, as Program.cs would.</summary>
internal static class PermitCli
{
    public static async Task<(int Code, string Stdout, string Stderr)> RunPermitVerbAsync(this ClientHarness harness, params string[] args)
    {
        var root = new RootCommand("spe (permit verbs under test)")
        {
            PermitCommands.Create(harness.Environment),
            ProjectCommands.Create(harness.Environment),
            HaltCommands.Halt(harness.Environment),
            HaltCommands.Resume(harness.Environment),
        };
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

    /// <summary>A problem answer as the real server writes it.</summary>
    public static string Problem(int status, string code, string detail, string? errors = null) =>
        $$"""{"type":"https://openspe.eu/problems/{{status}}","title":"t","status":{{status}},"detail":"{{detail}}","code":"{{code}}","traceId":"4bf92f3577b34da6a3ce929d0e0e4736"{{(errors is null ? "" : ",\"errors\":" + errors)}}}""";

    /// <summary>docs/examples/permit.json, found from the test binary upwards.</summary>
    public static string ExamplePermitPath()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OpenSpe.slnx")))
            {
                return Path.Combine(directory.FullName, "docs", "examples", "permit.json");
            }
        }

        throw new InvalidOperationException("repository root not found");
    }
}

/// <summary>
/// <c>spe permit</c> and <c>spe project</c> against the fake server (<see cref="FakeSpeServer"/>): the permit file is sent as
/// written, tables by default and the server's JSON with --json, problem answers exit 1, bad usage exits 2.
/// </summary>
public sealed class PermitCliTests : IDisposable
{
    private const string PermitId = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    private const string ProjectId = "p-0042";

    private static readonly string PermitViewJson = $$"""
        {"id":"{{PermitId}}","projectId":"{{ProjectId}}","reference":"HDAB-FI-2026-0042","title":"Diabetes outcomes after bariatric surgery",
         "state":"active","version":1,"validFrom":"2026-12-01T00:00:00Z","validUntil":"2027-12-01T00:00:00Z",
         "createdAt":"2026-03-01T12:00:00Z","createdBy":"hdab","document":{{File.ReadAllText(PermitCli.ExamplePermitPath())}}}
        """;

    private readonly ClientHarness _harness = new();
    private readonly TempDirectory _files = new();

    public PermitCliTests() => _harness.SignIn();

    [Fact]
    public async Task Fake_server_permit_create_sends_the_file_as_written_and_prints_only_the_id()
    {
        _harness.Server.Routes["POST /api/v1/permits"] = (HttpStatusCode.Created, PermitViewJson);
        var example = PermitCli.ExamplePermitPath();

        var (code, stdout, stderr) = await _harness.RunPermitVerbAsync("permit", "create", "--file", example);

        Assert.Equal(0, code);
        Assert.Equal(PermitId + "\n", stdout);
        Assert.Contains("HDAB-FI-2026-0042", stderr, StringComparison.Ordinal);
        Assert.Contains($"spe permit show {PermitId}", stderr, StringComparison.Ordinal);
        var sent = LastBody();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(example)), JsonNode.Parse(sent)));
        Assert.Contains("\"delta\":1e-6", sent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fake_server_permit_create_json_prints_the_whole_permit_with_id_and_project_id()
    {
        _harness.Server.Routes["POST /api/v1/permits"] = (HttpStatusCode.Created, PermitViewJson);

        var (code, stdout, _) = await _harness.RunPermitVerbAsync("permit", "create", "--file", PermitCli.ExamplePermitPath(), "--json");

        Assert.Equal(0, code);
        using var document = JsonDocument.Parse(stdout);
        Assert.Equal(PermitId, document.RootElement.GetProperty("id").GetString());
        Assert.Equal(ProjectId, document.RootElement.GetProperty("projectId").GetString());
        Assert.Equal("omop-2026", document.RootElement.GetProperty("document").GetProperty("datasets")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Fake_server_permit_create_reads_standard_input_for_file_dash()
    {
        _harness.Server.Routes["POST /api/v1/permits"] = (HttpStatusCode.Created, PermitViewJson);
        foreach (var line in File.ReadAllLines(PermitCli.ExamplePermitPath()))
        {
            _harness.Input.Stdin.Enqueue(line);
        }

        var (code, stdout, _) = await _harness.RunPermitVerbAsync("permit", "create", "--file", "-");

        Assert.Equal((0, PermitId), (code, stdout.Trim()));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(PermitCli.ExamplePermitPath())), JsonNode.Parse(LastBody())));
    }

    [Fact]
    public async Task Fake_server_permit_create_with_a_missing_file_exits_1_before_any_request()
    {
        var missing = _files.File("nope.json");

        var (code, stdout, stderr) = await _harness.RunPermitVerbAsync("permit", "create", "--file", missing);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal($"spe: cannot read the permit file '{missing}': it does not exist\n", stderr);
        Assert.Empty(_harness.Server.Requests);
    }

    [Theory]
    [InlineData("{\n  \"reference\": \"x\",\n  \"title\": \n}", "is not valid JSON at line 4")]
    [InlineData("[1, 2]", "must hold one JSON object")]
    [InlineData("  \n", "is empty")]
    public async Task Fake_server_permit_create_with_a_file_that_is_not_a_json_object_exits_1_before_any_request(string content, string message)
    {
        var path = _files.File("permit.json");
        await File.WriteAllTextAsync(path, content, TestContext.Current.CancellationToken);

        var (code, _, stderr) = await _harness.RunPermitVerbAsync("permit", "amend", PermitId, "--file", path);

        Assert.Equal(1, code);
        Assert.StartsWith($"spe: the permit file '{path}' ", stderr, StringComparison.Ordinal);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Empty(_harness.Server.Requests);
    }

    [Fact]
    public async Task Fake_server_permit_create_refused_by_validation_exits_1_with_the_field_errors_on_one_line()
    {
        _harness.Server.Routes["POST /api/v1/permits"] = (HttpStatusCode.BadRequest, PermitCli.Problem(400, "SPE1002", "The permit is not valid",
            """{"validUntil":["must be after validFrom"],"dataUsers[1].account":["no such account: nobody"]}"""));

        var (code, stdout, stderr) = await _harness.RunPermitVerbAsync("permit", "create", "--file", PermitCli.ExamplePermitPath());

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("spe: The permit is not valid: dataUsers[1].account: no such account: nobody; validUntil: must be after validFrom (SPE1002, trace 4bf92f3577b34da6a3ce929d0e0e4736)\n", stderr);
    }

    [Fact]
    public async Task Fake_server_permit_show_prints_fields_then_datasets_and_data_users()
    {
        _harness.Server.Routes[$"GET /api/v1/permits/{PermitId}"] = (HttpStatusCode.OK, PermitViewJson);

        var (code, stdout, _) = await _harness.RunPermitVerbAsync("permit", "show", PermitId);

        Assert.Equal(0, code);
        var lines = stdout.Split('\n');
        Assert.Matches($"^Id +{PermitId}$", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("Project ", StringComparison.Ordinal) && l.EndsWith(ProjectId, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("State ", StringComparison.Ordinal) && l.EndsWith("active", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Purpose ", StringComparison.Ordinal) && l.EndsWith("scientific-research", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Valid until ", StringComparison.Ordinal) && l.EndsWith(" 2027-12-01 00:00:00Z", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Export types ", StringComparison.Ordinal) && l.EndsWith("csv, txt, png, pdf", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Privacy delta ", StringComparison.Ordinal) && l.EndsWith("1e-6", StringComparison.Ordinal));
        var datasets = Array.FindIndex(lines, l => l.StartsWith("DATASET ", StringComparison.Ordinal));
        Assert.Matches("^omop-2026 +OMOP CDM extract +holder +Pseudonymised", lines[datasets + 1]);
        var users = Array.FindIndex(lines, l => l.StartsWith("DATA USER ", StringComparison.Ordinal));
        Assert.Matches("^researcher +- +- +-$", lines[users + 1]);
        Assert.Matches("^researcher2 ", lines[users + 2]);
        Assert.Matches("^- +https://login.example.org +8f3c +Dr. A. Example$", lines[users + 3]);
        Assert.Contains(lines, l => l.StartsWith("cohort-count ", StringComparison.Ordinal) && l.EndsWith("a7002d601c304b91b734619a1ddf8272bc9696cb3956aebc22f818d395ae9809", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Fake_server_permit_show_of_a_permit_without_policies_shows_the_defaults()
    {
        _harness.Server.Routes[$"GET /api/v1/permits/{PermitId}"] = (HttpStatusCode.OK,
            $$"""{"id":"{{PermitId}}","projectId":"p-0042","reference":"R","title":"T","state":"suspended","version":3,"validFrom":"2026-01-01T00:00:00Z","validUntil":"2027-01-01T00:00:00Z","createdAt":"2026-01-01T00:00:00Z","createdBy":"hdab","document":{"reference":"R"} }""");

        var (code, stdout, _) = await _harness.RunPermitVerbAsync("permit", "show", PermitId);

        Assert.Equal(0, code);
        Assert.Matches("(?m)^Idle timeout \\(min\\) +15 \\(default\\)$", stdout);
        Assert.Matches("(?m)^Clipboard +none \\(default\\)$", stdout);
        Assert.Matches("(?m)^Airlock reviewers +2 \\(default\\)$", stdout);
    }

    [Fact]
    public async Task Fake_server_permit_show_of_an_unknown_permit_exits_1_with_the_problem()
    {
        var (code, stdout, stderr) = await _harness.RunPermitVerbAsync("permit", "show", "../admin");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("spe: There is no such resource. (SPE1007, trace 0af7651916cd43dd8448eb211c80319c)\n", stderr);
        Assert.Equal("GET /api/v1/permits/..%2Fadmin", _harness.Server.Requests.Last());
    }

    [Fact]
    public async Task Fake_server_permit_list_is_a_table_by_default_and_the_servers_json_on_request()
    {
        _harness.Server.Routes["GET /api/v1/permits"] = (HttpStatusCode.OK,
            $$"""[{"id":"{{PermitId}}","projectId":"{{ProjectId}}","reference":"HDAB-FI-2026-0042","title":"Diabetes","state":"active","version":2,"validFrom":"2026-12-01T00:00:00Z","validUntil":"2027-12-01T00:00:00Z"}]""");

        var (code, table, _) = await _harness.RunPermitVerbAsync("permit", "list");
        var (jsonCode, json, _) = await _harness.RunPermitVerbAsync("permit", "list", "--json");

        Assert.Equal((0, 0), (code, jsonCode));
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^ID +REFERENCE +TITLE +STATE +VERSION +VALID FROM +VALID UNTIL +PROJECT$", lines[0]);
        Assert.Matches($"^{PermitId} +HDAB-FI-2026-0042 +Diabetes +active +2 +2026-12-01 00:00:00Z +2027-12-01 00:00:00Z +{ProjectId}$", lines[1]);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(2, document.RootElement[0].GetProperty("version").GetInt32());
        Assert.Equal("2026-12-01T00:00:00Z", document.RootElement[0].GetProperty("validFrom").GetString());
    }

    [Fact]
    public async Task Fake_server_permit_amend_posts_the_new_document_and_shows_the_new_version()
    {
        _harness.Server.Routes[$"POST /api/v1/permits/{PermitId}/amendments"] = (HttpStatusCode.OK, PermitViewJson.Replace("\"version\":1", "\"version\":2", StringComparison.Ordinal));

        var (code, stdout, _) = await _harness.RunPermitVerbAsync("permit", "amend", PermitId, "--file", PermitCli.ExamplePermitPath());

        Assert.Equal(0, code);
        Assert.Matches("(?m)^Version +2$", stdout);
        Assert.Equal($"POST /api/v1/permits/{PermitId}/amendments", _harness.Server.Requests.Last());
    }

    [Theory]
    [InlineData("suspend")]
    [InlineData("revoke")]
    public async Task Fake_server_permit_suspend_and_revoke_send_the_reason_and_refuse_to_go_without_one(string verb)
    {
        _harness.Server.Routes[$"POST /api/v1/permits/{PermitId}/{verb}"] = (HttpStatusCode.OK, PermitViewJson.Replace("\"active\"", "\"" + verb + "d\"", StringComparison.Ordinal));

        var missing = await _harness.RunPermitVerbAsync("permit", verb, PermitId);
        var blank = await _harness.RunPermitVerbAsync("permit", verb, PermitId, "--reason", "  ");
        Assert.Empty(_harness.Server.Requests);
        var (code, stdout, _) = await _harness.RunPermitVerbAsync("permit", verb, PermitId, "--reason", "data breach at the holder");

        Assert.Equal((2, 2), (missing.Code, blank.Code));
        Assert.Contains("--reason must not be empty", blank.Stderr, StringComparison.Ordinal);
        Assert.Contains($"'spe permit {verb} --help'", blank.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, code);
        Assert.Matches($"(?m)^State +{verb}d$", stdout);
        Assert.Equal("""{"reason":"data breach at the holder"}""", LastBody());
    }

    [Fact]
    public async Task Fake_server_permit_resume_sends_an_empty_body_without_a_reason()
    {
        _harness.Server.Routes[$"POST /api/v1/permits/{PermitId}/resume"] = (HttpStatusCode.OK, PermitViewJson);

        var (code, _, _) = await _harness.RunPermitVerbAsync("permit", "resume", PermitId);
        var (withReason, json, _) = await _harness.RunPermitVerbAsync("permit", "resume", PermitId, "--reason", "cleared", "--json");

        Assert.Equal((0, 0), (code, withReason));
        Assert.Equal(["{}", """{"reason":"cleared"}"""], _harness.Server.Bodies);
        Assert.Equal("active", JsonDocument.Parse(json).RootElement.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Fake_server_permit_document_prints_the_jws_alone()
    {
        const string jws = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJpZCI6IjdjOWUifQ.MEUCIQDx-_abc";
        _harness.Server.Routes[$"GET /api/v1/permits/{PermitId}/document"] = (HttpStatusCode.OK, jws);

        var (code, stdout, stderr) = await _harness.RunPermitVerbAsync("permit", "document", PermitId);
        var (jsonCode, json, _) = await _harness.RunPermitVerbAsync("permit", "document", PermitId, "--json");

        Assert.Equal((0, 0), (code, jsonCode));
        Assert.Equal(jws + "\n", stdout);
        Assert.Equal("", stderr);
        Assert.Equal(jws, JsonDocument.Parse(json).RootElement.GetProperty("document").GetString());
    }

    [Fact]
    public async Task Fake_server_permit_document_that_is_not_a_compact_jws_exits_1()
    {
        _harness.Server.Routes[$"GET /api/v1/permits/{PermitId}/document"] = (HttpStatusCode.OK, "<html>\u001b[2J</html>");

        var (code, stdout, stderr) = await _harness.RunPermitVerbAsync("permit", "document", PermitId);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("is not a compact JWS", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fake_server_permit_document_visas_prints_one_row_per_user_and_dataset()
    {
        _harness.Server.Routes[$"GET /api/v1/permits/{PermitId}/visas"] = (HttpStatusCode.OK,
            """[{"user":"researcher","dataset":"omop-2026","visa":"aaa.bbb.ccc"},{"user":"https://login.example.org#8f3c","dataset":"omop-2026","visa":"ddd.eee.fff"}]""");

        var (code, table, _) = await _harness.RunPermitVerbAsync("permit", "document", PermitId, "--visas");
        var (_, json, _) = await _harness.RunPermitVerbAsync("permit", "document", PermitId, "--visas", "--json");

        Assert.Equal(0, code);
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches("^USER +DATASET +VISA$", lines[0]);
        Assert.Matches("^researcher +omop-2026 +aaa.bbb.ccc$", lines[1]);
        Assert.Equal("ddd.eee.fff", JsonDocument.Parse(json).RootElement[1].GetProperty("visa").GetString());
    }

    [Fact]
    public async Task Fake_server_permit_versions_lists_the_history()
    {
        _harness.Server.Routes[$"GET /api/v1/permits/{PermitId}/versions"] = (HttpStatusCode.OK,
            """[{"version":1,"createdAt":"2026-03-01T12:00:00Z","createdBy":"hdab","summary":"issued"},{"version":2,"createdAt":"2026-04-01T08:00:00Z","createdBy":"hdab","summary":"removed researcher2"}]""");

        var (code, stdout, _) = await _harness.RunPermitVerbAsync("permit", "versions", PermitId);

        Assert.Equal(0, code);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Matches("^2 +2026-04-01 08:00:00Z +hdab +removed researcher2$", lines[2]);
    }

    [Fact]
    public async Task Fake_server_project_list_and_show_print_tables()
    {
        _harness.Server.Routes["GET /api/v1/projects"] = (HttpStatusCode.OK,
            $$"""[{"id":"{{ProjectId}}","permitId":"{{PermitId}}","reference":"HDAB-FI-2026-0042","title":"Diabetes","state":"active","validFrom":"2026-12-01T00:00:00Z","validUntil":"2027-12-01T00:00:00Z","myRoles":["researcher"],"halted":true}]""");
        _harness.Server.Routes[$"GET /api/v1/projects/{ProjectId}"] = (HttpStatusCode.OK,
            $$"""
            {"id":"{{ProjectId}}","permitId":"{{PermitId}}","reference":"HDAB-FI-2026-0042","title":"Diabetes","state":"active","validFrom":"2026-12-01T00:00:00Z","validUntil":"2027-12-01T00:00:00Z",
             "members":[{"username":"researcher","name":null,"role":"researcher"},{"issuer":"https://login.example.org","subject":"8f3c","name":"Dr. A. Example","role":"researcher"}],
             "datasets":[{"id":"omop-2026","title":"OMOP CDM extract","holder":"holder"}],"halted":true}
            """);

        var (listCode, list, _) = await _harness.RunPermitVerbAsync("project", "list");
        var (showCode, show, _) = await _harness.RunPermitVerbAsync("project", "show", ProjectId);
        var (_, json, _) = await _harness.RunPermitVerbAsync("project", "show", ProjectId, "--json");

        Assert.Equal((0, 0), (listCode, showCode));
        Assert.Matches($"(?m)^{ProjectId} +HDAB-FI-2026-0042 +Diabetes +active +yes .* researcher +{PermitId}$", list);
        Assert.Matches("(?m)^Halted +yes$", show);
        Assert.Matches("(?m)^researcher +- +- +- +researcher$", show);
        Assert.Matches("(?m)^- +https://login.example.org +8f3c +Dr. A. Example +researcher$", show);
        Assert.Matches("(?m)^omop-2026 +OMOP CDM extract +holder$", show);
        Assert.True(JsonDocument.Parse(json).RootElement.GetProperty("halted").GetBoolean());
    }

    [Fact]
    public void The_documented_example_permit_keeps_to_the_contract()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(PermitCli.ExamplePermitPath()));
        var permit = document.RootElement;

        Assert.Equal(["reference", "title", "purpose", "legalBasis", "validFrom", "validUntil", "datasets", "dataUsers", "policies"], permit.EnumerateObject().Select(p => p.Name));
        Assert.Equal((new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 12, 1, 0, 0, 0, TimeSpan.Zero)),
            (permit.GetProperty("validFrom").GetDateTimeOffset(), permit.GetProperty("validUntil").GetDateTimeOffset()));
        Assert.All(permit.GetProperty("datasets").EnumerateArray(), d =>
        {
            Assert.Matches("^[a-z0-9][a-z0-9._-]{0,63}$", d.GetProperty("id").GetString());
            Assert.Equal("holder", d.GetProperty("holder").GetString());
        });
        var users = permit.GetProperty("dataUsers").EnumerateArray().ToList();
        Assert.Equal(["researcher", "researcher2"], users.Where(u => u.TryGetProperty("account", out _)).Select(u => u.GetProperty("account").GetString()));
        Assert.Single(users, u => u.TryGetProperty("issuer", out _) && u.TryGetProperty("subject", out _));
        Assert.All(permit.GetProperty("policies").GetProperty("approvedComponents").EnumerateArray(), c => Assert.Matches("^[0-9a-f]{64}$", c.GetProperty("sha256").GetString()));
    }

    [Theory]
    [InlineData("permit create", "--file", "--json")]
    [InlineData("permit list", "--json")]
    [InlineData("permit show", "<id>", "--json")]
    [InlineData("permit amend", "<id>", "--file", "--json")]
    [InlineData("permit suspend", "<id>", "--reason", "--json")]
    [InlineData("permit resume", "<id>", "--reason", "--json")]
    [InlineData("permit revoke", "<id>", "--reason", "--json")]
    [InlineData("permit document", "<id>", "--visas", "--json", "spe-keys.json")]
    [InlineData("permit versions", "<id>", "--json")]
    [InlineData("project list", "--json")]
    [InlineData("project show", "<id>", "--json")]
    [InlineData("halt", "--project", "--all", "--reason", "--list", "--json")]
    [InlineData("resume", "--project", "--all", "--json")]
    public async Task Every_permit_verb_documents_its_options(string verb, params string[] expected)
    {
        var (code, stdout, _) = await _harness.RunPermitVerbAsync([.. verb.Split(' '), "--help"]);

        Assert.Equal(0, code);
        Assert.All(expected, e => Assert.Contains(e, stdout, StringComparison.Ordinal));
    }

    public void Dispose()
    {
        _harness.Dispose();
        _files.Dispose();
    }

    private string LastBody() => _harness.Server.Bodies.Last();
}
