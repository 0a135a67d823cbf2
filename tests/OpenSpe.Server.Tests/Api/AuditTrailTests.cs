using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Api;

/// <summary>Every request is audited with its actor, and auditors read, export and verify the log over the API (EHDSR-6, EHDSR-7, SPER-9, TIR-12, OPR-16).</summary>
public sealed class AuditTrailTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await SpeTestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-7")]
    [Trait("Requirement", "SPER-9")]
    [Trait("Requirement", "TIR-12")]
    [Trait("Requirement", "OPR-16")]
    public async Task Authenticated_request_is_recorded_with_its_actor()
    {
        var token = await _server.TokenForAsync("alice", "auditor");
        using var client = _server.ClientWithToken(token);
        client.DefaultRequestHeaders.UserAgent.ParseAdd("audit-test/1.0");
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/server/info");
        request.Headers.Add("traceparent", $"00-{traceId}-0123456789abcdef-01");

        var response = await client.SendAsync(request);
        var record = await SingleByTraceAsync(traceId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(await SubjectOfAsync("alice"), record.ActorSubject);
        Assert.Equal("alice", record.ActorUsername);
        Assert.Equal("auditor", record.ActorRoles);
        Assert.Equal("127.0.0.1", record.SourceIp);
        Assert.Equal("audit-test/1.0", record.UserAgent);
        Assert.Equal("server.info", record.Action);
        Assert.Equal("success", record.Outcome);
        Assert.Equal(200, record.HttpStatus);
        Assert.DoesNotContain(token, Flatten(record), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-7")]
    [Trait("Requirement", "TIR-12")]
    public async Task Denied_requests_are_recorded_as_denied_with_the_reason_class()
    {
        using var researcher = await _server.ClientAsAsync("bob", "researcher");
        var anonymousTrace = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        var forbiddenTrace = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();

        await _server.Client.SendAsync(WithTrace(HttpMethod.Get, "/api/v1/audit/records", anonymousTrace));
        await researcher.SendAsync(WithTrace(HttpMethod.Get, "/api/v1/audit/records", forbiddenTrace));
        var anonymous = await SingleByTraceAsync(anonymousTrace);
        var forbidden = await SingleByTraceAsync(forbiddenTrace);

        Assert.Equal(("denied", 401, (string?)null), (anonymous.Outcome, anonymous.HttpStatus, anonymous.ActorUsername));
        Assert.Contains("\"reason\":\"unauthenticated\"", anonymous.DetailsJson, StringComparison.Ordinal);
        Assert.Equal(("denied", 403, "bob"), (forbidden.Outcome, forbidden.HttpStatus, forbidden.ActorUsername));
        Assert.Contains("\"reason\":\"forbidden\"", forbidden.DetailsJson, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-12")]
    [Trait("Requirement", "OPR-16")]
    public async Task State_changing_request_is_recorded_before_and_after_it_runs()
    {
        using var client = await _server.ClientAsAsync("olga", "operator");
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        var request = WithTrace(HttpMethod.Post, "/api/v1/audit/purge", traceId);
        request.Content = new StringContent("{\"reason\":\"routine\"}", Encoding.UTF8, "application/json");

        await client.SendAsync(request);
        var records = await ByTraceAsync(traceId);

        Assert.Equal(["request.received", "audit.purged", "audit.purge"], records.Select(r => r.Action));
        Assert.Equal("olga", records[0].ActorUsername);
        Assert.Equal(200, records[2].HttpStatus);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("{\"reason\":\"routine\",\"reason\":\"again\"}")]
    [InlineData("{\"reason\":\"routine\",\"extra\":1}")]
    [Trait("Requirement", "TIR-12")]
    [Trait("Requirement", "EHDSR-7")]
    public async Task A_malformed_body_is_recorded_as_the_callers_400_not_a_server_error(string body)
    {
        using var client = await _server.ClientAsAsync("oscar", "operator");
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        var request = WithTrace(HttpMethod.Post, "/api/v1/audit/purge", traceId);
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");

        using var response = await client.SendAsync(request);
        var records = await ByTraceAsync(traceId);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["request.received", "audit.purge"], records.Select(r => r.Action));
        Assert.Equal(("denied", 400), (records[1].Outcome, records[1].HttpStatus));
        Assert.Contains("\"reason\":\"invalid-input\"", records[1].DetailsJson, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Auditor_pages_and_filters_records()
    {
        using var auditor = await _server.ClientAsAsync("carol", "auditor");
        using var someone = await _server.ClientAsAsync("dave", "researcher");
        for (var i = 0; i < 5; i++)
        {
            await someone.GetAsync("/api/v1/server/info");
        }

        var first = await auditor.GetFromJsonAsync<JsonElement>("/api/v1/audit/records?actor=dave&action=server.info&limit=3");
        var next = first.GetProperty("nextAfter").GetInt64();
        var second = await auditor.GetFromJsonAsync<JsonElement>($"/api/v1/audit/records?actor=dave&action=server.info&limit=3&after={next}");
        var byAction = await auditor.GetFromJsonAsync<JsonElement>("/api/v1/audit/records?action=server.info&limit=1000");

        Assert.Equal(3, first.GetProperty("items").GetArrayLength());
        Assert.Equal(2, second.GetProperty("items").GetArrayLength());
        Assert.False(second.TryGetProperty("nextAfter", out var last) && last.ValueKind != JsonValueKind.Null, "the last page has no next page");
        Assert.All(first.GetProperty("items").EnumerateArray(), r => Assert.Equal("dave", r.GetProperty("actor").GetProperty("username").GetString()));
        Assert.All(byAction.GetProperty("items").EnumerateArray(), r => Assert.Equal("server.info", r.GetProperty("action").GetString()));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task Auditor_verifies_the_log_over_the_api_and_sees_tampering()
    {
        using var auditor = await _server.ClientAsAsync("carol", "auditor");
        await auditor.GetAsync("/api/v1/server/info");
        await _server.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();

        var before = await auditor.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
        await using (var connection = await _server.Database.OpenConnectionAsync())
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE audit_records SET outcome = 'denied' WHERE sequence = 2";
            await command.ExecuteNonQueryAsync();
        }

        var after = await auditor.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");

        Assert.True(before.GetProperty("valid").GetBoolean());
        Assert.False(after.GetProperty("valid").GetBoolean());
        Assert.Equal(2, after.GetProperty("firstBadSequence").GetInt64());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task Each_verification_is_recorded_and_the_last_one_is_read_back_without_verifying_again()
    {
        using var auditor = await _server.ClientAsAsync("carol", "auditor");

        using var none = await auditor.GetAsync("/api/v1/audit/verifications/latest");
        var noneProblem = await none.Content.ReadFromJsonAsync<JsonElement>();
        var verified = await auditor.GetFromJsonAsync<AuditVerificationView>("/api/v1/audit/verify");
        var last = await auditor.GetFromJsonAsync<AuditLastVerificationView>("/api/v1/audit/verifications/latest");
        var again = await auditor.GetFromJsonAsync<AuditLastVerificationView>("/api/v1/audit/verifications/latest");
        await using (var connection = await _server.Database.OpenConnectionAsync())
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "UPDATE audit_records SET outcome = 'denied' WHERE sequence = 2";
            await command.ExecuteNonQueryAsync();
        }

        var broken = await auditor.GetFromJsonAsync<AuditVerificationView>("/api/v1/audit/verify");
        var lastBroken = await auditor.GetFromJsonAsync<AuditLastVerificationView>("/api/v1/audit/verifications/latest");

        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Contains("No verification of the audit chain has been recorded yet", noneProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(verified!.Valid);
        Assert.True(last!.Valid);
        Assert.Equal((verified.RecordsChecked, verified.CheckpointsChecked, verified.LastSequence), (last.RecordsChecked, last.CheckpointsChecked, last.LastSequence));
        Assert.Equal("carol", last.VerifiedBy);
        Assert.True(last.Sequence > verified.LastSequence);
        // Reading it back verifies nothing and records no new result.
        Assert.Equal(last, again);
        Assert.False(broken!.Valid);
        Assert.False(lastBroken!.Valid);
        Assert.Equal((2L, broken.Problem), (lastBroken.FirstBadSequence, lastBroken.Problem));
    }

    [Theory]
    [InlineData("jsonl", "application/jsonl")]
    [InlineData("csv", "text/csv")]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Auditor_exports_records(string format, string mediaType)
    {
        using var auditor = await _server.ClientAsAsync("carol", "auditor");
        await auditor.GetAsync("/api/v1/server/info");

        var response = await auditor.GetAsync($"/api/v1/audit/export?format={format}");
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.True(lines.Length >= 2);
        if (format == "jsonl")
        {
            Assert.Equal(1, JsonDocument.Parse(lines[0]).RootElement.GetProperty("sequence").GetInt64());
        }
        else
        {
            Assert.StartsWith("sequence,timestamp,", lines[0], StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Public_key_is_published_for_offline_verification()
    {
        var key = await _server.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit/public-key");

        using var parsed = AuditSigningKey.FromPem(key.GetProperty("publicKeyPem").GetString()!);
        Assert.False(parsed.HasPrivateKey);
        Assert.Equal(_server.Services.GetRequiredService<AuditSigningKey>().KeyId, key.GetProperty("keyId").GetString());
    }

    [Fact]
    public async Task Health_probes_are_not_audited_but_answer()
    {
        var live = await _server.Client.GetAsync("/healthz");
        var ready = await _server.Client.GetAsync("/readyz");
        var rows = await AllRowsAsync();

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.DoesNotContain(rows, r => r.DetailsJson.Contains("/healthz", StringComparison.Ordinal));
    }

    private static HttpRequestMessage WithTrace(HttpMethod method, string path, string traceId)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("traceparent", $"00-{traceId}-0123456789abcdef-01");
        return request;
    }

    private async Task<AuditRow> SingleByTraceAsync(string traceId) => Assert.Single(await ByTraceAsync(traceId));

    private async Task<List<AuditRow>> ByTraceAsync(string traceId) => (await AllRowsAsync()).Where(r => r.TraceId == traceId).ToList();

    private async Task<List<AuditRow>> AllRowsAsync()
    {
        await using var connection = await _server.Database.OpenConnectionAsync();
        return AuditStore.ReadRows(connection).Select(r => r.Clone()).ToList();
    }

    private static string Flatten(AuditRow row) => string.Join("|", row.ActorSubject, row.ActorUsername, row.ActorRoles, row.UserAgent, row.DetailsJson, row.Action);

    private async Task<string> SubjectOfAsync(string username)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<OpenSpe.Server.Identity.SpeUser>>();
        return (await users.FindByNameAsync(username))!.Id;
    }
}
