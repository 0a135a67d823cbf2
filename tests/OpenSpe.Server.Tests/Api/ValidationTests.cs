using System.Net;
using System.Text;
using System.Text.Json;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Api;

/// <summary>Strict input: malformed JSON, unknown properties, wrong types, over-long strings and out-of-range values get 400 with field errors and change nothing (TIR-9, TIR-17).</summary>
public sealed class ValidationTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;
    private HttpClient _operator = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await SpeTestServer.StartAsync();
        _operator = await _server.ClientAsAsync("operator1", "operator");
    }

    public async ValueTask DisposeAsync()
    {
        _operator.Dispose();
        await _server.DisposeAsync();
    }

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "malformed JSON", "{\"reason\": ", "$" },
        { "unknown property", "{\"reason\":\"cleanup\",\"olderThanDays\":1}", "$" },
        { "wrong type", "{\"reason\":42}", "$.reason" },
        { "missing required property", "{}", "$" },
        { "trailing comma", "{\"reason\":\"cleanup\",}", "$" },
        { "comment", "{/* hi */\"reason\":\"cleanup\"}", "$" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    [Trait("Requirement", "TIR-9")]
    [Trait("Requirement", "TIR-17")]
    public async Task Bad_body_is_400_with_a_field_error_and_changes_nothing(string kind, string body, string fieldPrefix)
    {
        var response = await _operator.PostAsync("/api/v1/audit/purge", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors").EnumerateObject().ToList();
        Assert.True(errors.Count > 0, kind);
        Assert.StartsWith(fieldPrefix, errors[0].Name, StringComparison.Ordinal);
        Assert.Equal(0, await CountPurgesAsync());
    }

    [Fact]
    [Trait("Requirement", "TIR-9")]
    [Trait("Requirement", "TIR-17")]
    public async Task Over_long_string_is_400_naming_the_field()
    {
        var body = JsonSerializer.Serialize(new { reason = new string('x', 501) });

        var response = await _operator.PostAsync("/api/v1/audit/purge", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("reason", out _));
        Assert.Equal(0, await CountPurgesAsync());
    }

    [Theory]
    [InlineData("limit=5000", "limit")]
    [InlineData("limit=0", "limit")]
    [InlineData("after=-1", "after")]
    [Trait("Requirement", "TIR-9")]
    [Trait("Requirement", "TIR-17")]
    public async Task Out_of_range_query_is_400_naming_the_field(string query, string field)
    {
        using var auditor = await _server.ClientAsAsync("auditor1", "auditor");

        var response = await auditor.GetAsync("/api/v1/audit/records?" + query);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Theory]
    [InlineData("limit=abc")]
    [InlineData("since=yesterday")]
    [InlineData("actor=" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [Trait("Requirement", "TIR-9")]
    public async Task Malformed_query_is_400(string query)
    {
        using var auditor = await _server.ClientAsAsync("auditor1", "auditor");

        var response = await auditor.GetAsync("/api/v1/audit/records?" + query);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    [Trait("Requirement", "TIR-9")]
    public async Task Injection_shaped_filter_is_data_not_sql()
    {
        using var auditor = await _server.ClientAsAsync("auditor1", "auditor");

        var response = await auditor.GetAsync("/api/v1/audit/records?actor=" + Uri.EscapeDataString("x' OR '1'='1"));
        var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, page.GetProperty("items").GetArrayLength());
    }

    [Fact]
    [Trait("Requirement", "TIR-9")]
    public async Task Valid_purge_request_is_accepted_and_audited()
    {
        var response = await _operator.PostAsync("/api/v1/audit/purge", new StringContent("{\"reason\":\"yearly cleanup\"}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await CountPurgesAsync());
    }

    private async Task<long> CountPurgesAsync()
    {
        await using var connection = await _server.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM audit_records WHERE action = 'audit.purged'";
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
