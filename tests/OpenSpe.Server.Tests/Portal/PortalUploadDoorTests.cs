using System.Net;
using System.Net.Http.Headers;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The portal's door to the browser upload page (EHDSR-11, TIR-5, TIR-22): a holder of one of the project's datasets opens
/// it from the project page without pasting a token (the session's token travels in the fragment); a researcher of the
/// project sees no door and is refused at it, a non-member gets the API's 404, a halted project its 423, a form without
/// the anti-forgery token nothing.
/// </summary>
public sealed class PortalUploadDoorTests : IAsyncLifetime
{
    private PermitFixture _f = null!;
    private string _project = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync();
        (_, _project) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddHours(-1), PermitFixture.Start.AddDays(30), "HDAB-PORTAL-UPLOAD", "researcher"));
    }

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    [Trait("Requirement", "TIR-5")]
    public async Task A_holder_opens_the_upload_page_from_the_project_with_an_upload_ticket_in_the_fragment()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("holder");
        using var page = await portal.GetAsync("/projects/" + _project);
        var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        using var door = await portal.SubmitAsync(html, $"/projects/{_project}?handler=Upload");

        Assert.Contains("Upload data", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, door.StatusCode);
        var location = door.Headers.Location!.OriginalString;
        Assert.StartsWith($"/upload/{_project}#token=", location, StringComparison.Ordinal);
        // The token is an upload ticket: it opens what the page needs, and not the project itself nor the person's account.
        using var api = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true }) { BaseAddress = _f.Server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Uri.UnescapeDataString(location[(location.IndexOf("#token=", StringComparison.Ordinal) + 7)..]));
        using var datasets = await api.GetAsync($"/api/v1/projects/{_project}/datasets", TestContext.Current.CancellationToken);
        using var project = await api.GetAsync($"/api/v1/projects/{_project}", TestContext.Current.CancellationToken);
        using var sessions = await api.GetAsync("/api/v1/account/sessions", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, datasets.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, project.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, sessions.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    [Trait("Requirement", "TIR-22")]
    public async Task A_researcher_of_the_project_sees_no_door_and_is_refused_at_it()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("researcher");
        using var page = await portal.GetAsync("/projects/" + _project);
        var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        using var door = await portal.SubmitAsync(html, $"/projects/{_project}?handler=Upload");
        var refusal = await door.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.DoesNotContain("Upload data", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, door.StatusCode);
        Assert.Null(door.Headers.Location);
        Assert.Contains("Only a holder of one of this project", refusal, StringComparison.Ordinal);
        Assert.DoesNotContain("#token=", refusal, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "OPR-20")]
    public async Task A_non_member_gets_the_apis_404_a_halted_project_its_423_and_a_form_without_its_token_nothing()
    {
        using var portal = new PortalBrowser(_f.Server);
        using var _ = await portal.SignInAsync("holder");
        using var page = await portal.GetAsync("/projects/" + _project);
        var html = await page.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        // researcher2 is in no role of this permit.
        using var stranger = new PortalBrowser(_f.Server);
        using var strangerHome = await stranger.SignInAsync("researcher2");

        using var notMine = await stranger.SubmitAsync(await strangerHome.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), $"/projects/{_project}?handler=Upload");
        using var forged = await portal.Browser.PostFormAsync($"/projects/{_project}?handler=Upload", []);
        using var halt = await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = _project, reason = "suspected exfiltration" });
        using var halted = await portal.SubmitAsync(html, $"/projects/{_project}?handler=Upload");

        Assert.Equal(HttpStatusCode.NotFound, notMine.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.Equal((HttpStatusCode)423, halted.StatusCode);
        foreach (var refused in new[] { notMine, forged, halted })
        {
            Assert.Null(refused.Headers.Location);
        }
    }
}
