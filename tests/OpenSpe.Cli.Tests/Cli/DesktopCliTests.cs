using System.Net;
using OpenSpe.Cli.Tests.UploadCli;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// <c>spe desktop url</c> against a real server: a data user of the permit gets the desktop page's link with a working
/// access token in its fragment; anyone the server would not let open the desktop gets the server's refusal and no link.
/// </summary>
public sealed class DesktopCliTests : IAsyncLifetime
{
    private PermitFixture _f = null!;
    private string _projectId = "";

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync();
        (_, _projectId) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), "HDAB-FI-2026-0042", "researcher"));
    }

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    [Trait("Requirement", "TIR-18")]
    public async Task A_data_user_gets_the_desktop_page_link_with_a_working_token()
    {
        await using var researcher = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync("researcher"));

        var (code, stdout, stderr) = await researcher.RunAsync("desktop", "url", "--project", _projectId);

        Assert.True(code == 0, stderr);
        var link = new Uri(stdout.Trim());
        Assert.Equal(_f.Server.Client.BaseAddress!.GetLeftPart(UriPartial.Authority), link.GetLeftPart(UriPartial.Authority));
        Assert.Equal($"/desktop/{_projectId}", link.AbsolutePath);
        Assert.StartsWith("#token=", link.Fragment, StringComparison.Ordinal);
        Assert.Contains("The link works until", stderr, StringComparison.Ordinal);
        using var page = _f.Server.ClientWithToken(Uri.UnescapeDataString(link.Fragment["#token=".Length..]));
        var terms = await page.GetAsync($"/api/v1/projects/{_projectId}/desktop/terms", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, terms.StatusCode);
    }

    /// <summary>The holder is refused for their role; the operator and a researcher outside the permit do not learn the project exists.</summary>
    [Theory]
    [InlineData("holder", "Your role in this permit does not allow this.")]
    [InlineData("operator", "There is no such project.")]
    [InlineData("researcher2", "There is no such project.")]
    public async Task Anyone_who_may_not_open_the_desktop_gets_the_refusal_and_no_link(string username, string refusal)
    {
        await using var caller = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync(username));

        var (code, stdout, stderr) = await caller.RunAsync("desktop", "url", "--project", _projectId);

        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("spe: " + refusal, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_halted_project_gives_no_link()
    {
        await using var researcher = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync("researcher"));
        Assert.Equal(HttpStatusCode.Created, (await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = _projectId, reason = "incident" })).StatusCode);

        var (code, stdout, stderr) = await researcher.RunAsync("desktop", "url", "--project", _projectId);

        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("spe: This project is halted", stderr, StringComparison.Ordinal);
    }
}
