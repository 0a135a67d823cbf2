using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Transfers;

namespace OpenSpe.Server.Tests.Api;

/// <summary>
/// Bytes the API used to accept (issue #11 item 8): duplicate JSON keys, NUL and other control characters in
/// strings, invalid UTF-8, and bidirectional-override or zero-width characters in file names. Each gets a 400
/// problem naming what is wrong, and changes nothing.
/// </summary>
public sealed class InputStrictnessTests : IAsyncLifetime
{
    private PermitFixture _f = null!;
    private string _projectId = "";

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync();
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        (_, _projectId) = await _f.IssueAsync(document);
    }

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    public static TheoryData<string, byte[], string> BadBodies => new()
    {
        { "duplicate key", Utf8("{\"reason\":\"cleanup\",\"reason\":\"other\"}"), "Duplicate property" },
        { "escaped NUL", Utf8("{\"reason\":\"clean\\u0000up\"}"), "Control characters" },
        { "escaped ESC", Utf8("{\"reason\":\"clean\\u001b[2Jup\"}"), "Control characters" },
        { "escaped C1 control", Utf8("{\"reason\":\"clean\\u0085up\"}"), "Control characters" },
        { "lone surrogate", Utf8("{\"reason\":\"clean\\ud800up\"}"), "" },
        { "invalid UTF-8 byte", [.. Utf8("{\"reason\":\"clean"), 0xFF, 0xFE, .. Utf8("up\"}")], "" },
        { "overlong UTF-8 '/'", [.. Utf8("{\"reason\":\"clean"), 0xC0, 0xAF, .. Utf8("up\"}")], "" },
        { "truncated UTF-8 sequence", [.. Utf8("{\"reason\":\"clean"), 0xE2, 0x82, .. Utf8("\"}")], "" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    [Trait("Requirement", "TIR-9")]
    [Trait("Requirement", "TIR-17")]
    public async Task Body_with_bad_text_is_400_and_changes_nothing(string kind, byte[] body, string message)
    {
        using var operatorClient = await _f.Server.ClientForAccountAsync("operator");
        var before = await CountAsync("SELECT COUNT(*) FROM audit_records WHERE action = 'audit.purged'");

        using var response = await operatorClient.PostAsync(new Uri("/api/v1/audit/purge", UriKind.Relative), Json(body));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("SPE1001", problem.GetProperty("code").GetString());
        var error = Assert.Single(problem.GetProperty("errors").EnumerateObject());
        Assert.Contains(message, error.Value[0].GetString(), StringComparison.Ordinal);
        Assert.True(before == await CountAsync("SELECT COUNT(*) FROM audit_records WHERE action = 'audit.purged'"), kind);
    }

    [Fact]
    [Trait("Requirement", "TIR-9")]
    public async Task Permit_with_a_nul_in_a_title_is_refused_and_not_created()
    {
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), "HDAB-FI-2026-0099");
        var json = JsonSerializer.Serialize(document).Replace("OMOP CDM extract", "OMOP\\u0000CDM extract", StringComparison.Ordinal);
        var before = await CountAsync("SELECT COUNT(*) FROM permits");

        using var response = await hdab.PostAsync(new Uri("/api/v1/permits", UriKind.Relative), Json(Utf8(json)));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.StartsWith("$.datasets[0].title", problem.GetProperty("errors").EnumerateObject().Single().Name, StringComparison.Ordinal);
        Assert.Equal(before, await CountAsync("SELECT COUNT(*) FROM permits"));
    }

    public static TheoryData<string, byte[]> BadFileNames => new()
    {
        { "right-to-left override", Utf8("invoice\u202Evsc.exe.csv") },
        { "left-to-right override", Utf8("a\u202Db.csv") },
        { "right-to-left isolate", Utf8("a\u2067b.csv") },
        { "pop directional isolate", Utf8("a\u2069b.csv") },
        { "zero-width space", Utf8("cohort\u200B.csv") },
        { "zero-width joiner", Utf8("co\u200Dhort.csv") },
        { "word joiner", Utf8("co\u2060hort.csv") },
        { "byte order mark", Utf8("\uFEFFcohort.csv") },
        { "NUL", Utf8("cohort\0.csv") },
        { "newline", Utf8("cohort\n.csv") },
        { "C1 control", Utf8("cohort\u009B.csv") },
        { "invalid UTF-8", [.. Utf8("cohort"), 0xFF, .. Utf8(".csv")] },
        { "overlong UTF-8 '/'", [.. Utf8(".."), 0xC0, 0xAF, .. Utf8("x.csv")] },
    };

    [Theory]
    [MemberData(nameof(BadFileNames))]
    [Trait("Requirement", "TIR-9")]
    [Trait("Requirement", "TIR-5")]
    public async Task Upload_with_an_unsafe_file_name_is_400_and_creates_nothing(string kind, byte[] filename)
    {
        using var holder = await _f.Server.ClientForAccountAsync("holder");
        var tus = new TusClient(holder, _projectId);
        var before = await CountAsync("SELECT COUNT(*) FROM uploads");

        using var response = await tus.SendCreateAsync(request =>
        {
            request.Headers.Add("Upload-Length", "1000");
            request.Headers.Add("Upload-Metadata",
                $"dataset {B64(Utf8("omop-2026"))},filename {B64(filename)},plaintextSha256 {B64(Utf8(new string('a', 64)))}");
        });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("filename", out _), kind);
        Assert.Equal(before, await CountAsync("SELECT COUNT(*) FROM uploads"));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Upload_with_a_plain_non_ascii_file_name_is_created()
    {
        using var holder = await _f.Server.ClientForAccountAsync("holder");
        var tus = new TusClient(holder, _projectId);

        using var response = await tus.CreateAsync(1000, "omop-2026", "kohortti-äö-队列.csv", new string('a', 64));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes);

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = await _f.Server.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
