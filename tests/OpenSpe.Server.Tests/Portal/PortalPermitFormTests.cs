using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The HDAB officer issues a permit from the portal's form of fields (<c>/permits/new</c>, EHDSR-1): the document the API gets is
/// the one the fields say, each error shows at its own field, nothing is issued on a refusal, and nobody else can use the form.
/// </summary>
public sealed class PortalPermitFormTests : IAsyncLifetime
{
    private PermitFixture _f = null!;

    public async ValueTask InitializeAsync() => _f = await PermitFixture.StartAsync();

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    private static (string Name, string Value)[] Fields(string reference, string from, string until, string datasets = "omop-2026 | OMOP CDM extract | holder") =>
    [
        ("Form.Reference", reference),
        ("Form.Title", "Diabetes outcomes after bariatric surgery"),
        ("Form.Purpose", "scientific-research"),
        ("Form.LegalBasis", "EHDS Article 53(1)(e)"),
        ("Form.ValidFrom", from),
        ("Form.ValidUntil", until),
        ("Form.Datasets", datasets),
        ("Form.DataUsers", "researcher\nresearcher2"),
        ("Form.WorkspaceKinds", "job"),
        ("Form.WorkspaceKinds", "terminal"),
        ("Form.Clipboard", "none"),
        ("Form.UploadTypes", "csv, .Parquet"),
        ("Form.Threshold", "11"),
        ("Form.ReviewersRequired", "2"),
        ("Form.Epsilon", "2.5"),
    ];

    private static string Day(int days) => PermitFixture.Start.AddDays(days).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    [Trait("Requirement", "EHDSR-1")]
    public async Task The_form_issues_the_permit_its_fields_describe()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var page = await portal.SignInAsync("hdab", "/permits/new");
        var html = await page.Content.ReadAsStringAsync();

        using var issued = await portal.SubmitAsync(html, "/permits/new", Fields("HDAB-FORM-1", Day(0), Day(30)));
        using var list = await portal.GetAsync(issued.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.Redirect, issued.StatusCode);
        Assert.Contains("Permit HDAB-FORM-1 is issued.", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");
        var permits = await hdab.GetFromJsonAsync<JsonElement>("/api/v1/permits");
        var id = permits.EnumerateArray().Single(p => p.GetProperty("reference").GetString() == "HDAB-FORM-1").GetProperty("id").GetString();
        var document = JsonDocument.Parse(await hdab.GetStringAsync($"/api/v1/permits/{id}")).RootElement.GetProperty("document");
        Assert.Equal(PermitFixture.Start.Date.AddDays(31), document.GetProperty("validUntil").GetDateTimeOffset().UtcDateTime);
        Assert.Equal(["omop-2026"], document.GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("id").GetString()));
        Assert.Equal(["researcher", "researcher2"], document.GetProperty("dataUsers").EnumerateArray().Select(u => u.GetProperty("account").GetString()));
        var policies = document.GetProperty("policies");
        Assert.Equal(["job", "terminal"], policies.GetProperty("workspaceKinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(["csv", "parquet"], policies.GetProperty("fileTypes").GetProperty("upload").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(11, policies.GetProperty("airlock").GetProperty("threshold").GetInt32());
        Assert.Equal(2.5, policies.GetProperty("privacyBudget").GetProperty("epsilon").GetDouble());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-1")]
    public async Task Each_error_shows_at_its_own_field_the_fields_are_kept_and_nothing_is_issued()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var page = await portal.SignInAsync("hdab", "/permits/new");
        var html = await page.Content.ReadAsStringAsync();

        // The server's refusals: validUntil before validFrom, and ε out of range.
        var fields = Fields("HDAB-FORM-BAD", Day(10), Day(2)).Select(f => f.Name == "Form.Epsilon" ? (f.Name, "500") : f).ToArray();
        using var refused = await portal.SubmitAsync(html, "/permits/new", fields);
        var answer = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
        // The page's own: a dataset line without its holder, and a day that is not a day.
        using var malformed = await portal.SubmitAsync(html, "/permits/new", Fields("HDAB-FORM-BAD2", "31/12/2026", Day(30), "omop-2026 | OMOP CDM extract"));
        var second = WebUtility.HtmlDecode(await malformed.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Matches("<p id=\"validUntil-error\" class=\"field-error\">[^<]*validUntil must be after validFrom", answer);
        Assert.Matches("<p id=\"epsilon-error\" class=\"field-error\">[^<]*epsilon must be greater than 0 and at most 100", answer);
        Assert.Contains("aria-describedby=\"validUntil-error\"", answer, StringComparison.Ordinal);
        Assert.Contains("value=\"HDAB-FORM-BAD\"", answer, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Matches("<p id=\"datasets-error\" class=\"field-error\">Line 1 is not id \\| title \\| holder", second);
        Assert.Matches("<p id=\"validFrom-error\" class=\"field-error\">Enter a day as year-month-day", second);
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");
        var permits = await hdab.GetStringAsync("/api/v1/permits");
        Assert.DoesNotContain("HDAB-FORM-BAD", permits, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("researcher")]
    [InlineData("operator")]
    [InlineData("admin")]
    [Trait("Requirement", "TIR-22")]
    public async Task Another_role_sees_no_form_and_its_forged_post_issues_nothing(string username)
    {
        using var hdabPortal = new PortalBrowser(_f.Server);
        using var hdabPage = await hdabPortal.SignInAsync("hdab", "/permits/new");
        using var portal = new PortalBrowser(_f.Server);
        using var own = await portal.SignInAsync(username, "/account");
        var html = await own.Content.ReadAsStringAsync();

        using var page = await portal.GetAsync("/permits/new");
        // A form of the caller's own session (its antiforgery token), posted without the page ever offering it.
        using var forged = await portal.SubmitAsync(html, "/permits/new", Fields("HDAB-FORM-FORGED", Day(0), Day(30)));

        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.DoesNotContain("Form.Reference", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");
        Assert.DoesNotContain("HDAB-FORM-FORGED", await hdab.GetStringAsync("/api/v1/permits"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_post_without_the_antiforgery_token_is_refused_and_issues_nothing()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("hdab", "/permits/new");

        using var response = await portal.Browser.PostFormAsync("/permits/new", [.. Fields("HDAB-FORM-NOAF", Day(0), Day(30)).Select(f => new KeyValuePair<string, string>(f.Name, f.Value))]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var hdab = await _f.Server.ClientForAccountAsync("hdab");
        Assert.DoesNotContain("HDAB-FORM-NOAF", await hdab.GetStringAsync("/api/v1/permits"), StringComparison.Ordinal);
    }
}
