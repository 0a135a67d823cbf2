using System.Net;
using System.Text;
using OpenSpe.Server.Portal;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Transfers;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// <c>/projects/{project}/files</c> (EHDSR-11, TIR-22): a holder sees the dataset files the API gives them, each verified
/// with its plaintext SHA-256; an oversight role that reads the project gets a 403 in words, a non-member the API's 404 with
/// no trace of the project, a halted project its 423 and banner, a signed-out browser the way to sign in.
/// </summary>
public sealed class PortalDatasetFilesPageTests : IAsyncLifetime
{
    private static readonly byte[] Csv = Encoding.UTF8.GetBytes("person_id,year_of_birth\n1,1970\n2,1985\n");

    private PermitFixture _f = null!;
    private string _project = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync();
        var document = PermitFixture.Document(PermitFixture.Start.AddHours(-1), PermitFixture.Start.AddDays(30), "HDAB-PORTAL-FILES", "researcher");
        document["policies"] = new { workspaceKinds = new[] { "job" }, clipboard = "none", fileTypes = new { upload = new[] { "csv" } } };
        (_, _project) = await _f.IssueAsync(document);
        using var holder = await _f.Server.ClientForAccountAsync("holder");
        var tus = new TusClient(holder, _project);
        var (_, last) = await tus.UploadAsync(TusClient.Encrypt(Csv, await tus.ProjectKeyAsync()), "omop-2026", "person.csv", TusClient.Sha256Hex(Csv));
        last.Dispose();
    }

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Theory]
    [InlineData("holder")]
    [InlineData("researcher")]
    [Trait("Requirement", "EHDSR-11")]
    [Trait("Requirement", "TIR-22")]
    public async Task A_member_finds_the_files_from_the_project_page_each_verified_with_its_plaintext_sha256(string username)
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync(username);

        using var project = await portal.GetAsync("/projects/" + _project);
        using var files = await portal.GetAsync($"/projects/{_project}/files");
        var html = await files.Content.ReadAsStringAsync();

        Assert.Contains($"href=\"/projects/{_project}/files\"", await project.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(files.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains("person.csv", html, StringComparison.Ordinal);
        Assert.Contains("<td><strong>Verified</strong></td>", html, StringComparison.Ordinal);
        Assert.Contains("Plaintext SHA-256 check at completion", html, StringComparison.Ordinal);
        Assert.Contains(TusClient.Sha256Hex(Csv), html, StringComparison.Ordinal);
        Assert.Equal(PortalHeaders.ContentSecurityPolicy, files.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Theory]
    [InlineData("hdab")]
    [InlineData("operator")]
    [InlineData("auditor")]
    [Trait("Requirement", "TIR-22")]
    public async Task An_oversight_role_that_reads_the_project_is_refused_the_files_in_words(string username)
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync(username);

        using var response = await portal.GetAsync($"/projects/{_project}/files");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("shown to its data holders and researchers only", html, StringComparison.Ordinal);
        Assert.DoesNotContain("person.csv", html, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "SDR-1")]
    public async Task A_non_member_gets_the_apis_404_and_no_trace_of_the_project()
    {
        using var portal = new PortalBrowser(_f.Server);
        // researcher2 is in no role of this permit.
        using var _ = await portal.SignInAsync("researcher2");

        using var response = await portal.GetAsync($"/projects/{_project}/files");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("person.csv", html, StringComparison.Ordinal);
        Assert.DoesNotContain("HDAB-PORTAL-FILES", html, StringComparison.Ordinal);
        Assert.DoesNotContain("omop-2026", html, StringComparison.Ordinal);
        Assert.DoesNotContain(TusClient.Sha256Hex(Csv), html, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task A_halted_project_shows_the_halted_banner_and_no_file()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("holder");

        using var halt = await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = _project, reason = "suspected exfiltration" });
        using var response = await portal.GetAsync($"/projects/{_project}/files");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.Equal((HttpStatusCode)423, response.StatusCode);
        Assert.Contains("banner halted", html, StringComparison.Ordinal);
        Assert.DoesNotContain("person.csv", html, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task A_signed_out_browser_is_sent_to_sign_in_and_gets_nothing()
    {
        using var portal = new PortalBrowser(_f.Server);

        using var response = await portal.GetAsync($"/projects/{_project}/files");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/portal/signin", portal.Browser.Location(response).AbsolutePath);
        Assert.DoesNotContain("person.csv", body, StringComparison.Ordinal);
    }
}
