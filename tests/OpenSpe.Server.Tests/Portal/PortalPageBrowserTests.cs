using System.Text.Json;
using Microsoft.Playwright;
using OpenSpe.Server.Tests.Desktop;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The portal in a real browser (Debian's Chromium driven by Playwright, headless): sign-in with password and TOTP through
/// the code + PKCE flow, the researcher's project page and desktop (a real sandbox: a frame appears), every role's main page
/// checked by axe-core (no serious or critical WCAG 2.1 A/AA violation) with nothing loaded from another origin, and a
/// screenshot of each written to docs/screenshots/.
/// </summary>
public sealed class PortalPageBrowserTests(DesktopFixture f) : IClassFixture<DesktopFixture>
{
    private const string CanvasHasAFrame = """
        () => {
          const canvas = document.querySelector('#screen canvas');
          if (!canvas || canvas.width < 100 || canvas.height < 100) return false;
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 0; i < pixels.length; i += 4) {
            if (pixels[i] | pixels[i + 1] | pixels[i + 2]) return true;
          }
          return false;
        }
        """;

    private const string RunAxe = """
        async () => {
          const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
          return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
        }
        """;

    [Fact]
    [Trait("Requirement", "TIR-18")]
    [Trait("Requirement", "TIR-19")]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "SPER-7")]
    public async Task Researcher_signs_in_with_password_and_totp_opens_the_project_and_its_desktop_shows_a_frame()
    {
        f.RequireDesktop();
        var axe = RequireBrowserAndAxe();
        var (_, projectId) = await f.IssueAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestChromium.LaunchAsync(playwright);
        var (page, foreign, errors) = await NewPageAsync(browser);

        await SignInAsync(page, "researcher");
        await CheckAsync(page, axe, "researcher-home");
        await page.GetByRole(AriaRole.Link, new() { Name = "My projects" }).First.ClickAsync();
        await page.WaitForURLAsync("**/projects");
        await CheckAsync(page, axe, "researcher-projects");
        await page.Locator($"a[href='/projects/{projectId}']").ClickAsync();
        await page.WaitForURLAsync($"**/projects/{projectId}");
        var terms = await page.Locator("#terms-heading").TextContentAsync();
        await CheckAsync(page, axe, "researcher-project");
        await page.GetByRole(AriaRole.Button, new() { Name = "Accept the terms and open the desktop" }).ClickAsync();
        await page.WaitForURLAsync($"**/desktop/{projectId}");
        try
        {
            await page.WaitForFunctionAsync(CanvasHasAFrame, null, new() { Timeout = 20_000, PollingInterval = 100 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no frame; status '{await page.Locator("#status").TextContentAsync()}'; {string.Join("; ", errors)}");
        }

        Assert.Equal("Terms of use", terms);
        Assert.DoesNotContain("ticket", page.Url, StringComparison.Ordinal);
        Assert.Empty(errors);
        Assert.Empty(foreign);
        Assert.Single(await f.AuditAsync(projectId, "desktop.ticket.used"));
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Every_roles_main_page_passes_axe_and_loads_nothing_from_another_origin()
    {
        var axe = RequireBrowserAndAxe();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestChromium.LaunchAsync(playwright);

        var (front, frontForeign, frontErrors) = await NewPageAsync(browser);
        await front.GotoAsync(f.Server.BaseAddress.ToString());
        await CheckAsync(front, axe, "signed-out-front-page");
        Assert.Empty(frontForeign);
        Assert.Empty(frontErrors);

        foreach (var (username, path, shot) in new[]
        {
            ("checker", "/review", "output-checker-review-queue"),
            ("hdab", "/permits", "hdab-permits"),
            ("operator", "/halts", "operator-halts"),
            ("auditor", "/audit", "auditor-audit"),
        })
        {
            var (page, foreign, errors) = await NewPageAsync(browser);
            await SignInAsync(page, username);
            await page.GotoAsync(new Uri(f.Server.BaseAddress, path).ToString());
            await CheckAsync(page, axe, shot);
            Assert.Empty(foreign);
            Assert.Empty(errors);
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-22")]
    public async Task Account_page_and_its_new_second_factor_pass_axe_with_the_qr_code_drawn_by_the_server()
    {
        var axe = RequireBrowserAndAxe();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestChromium.LaunchAsync(playwright);
        var (page, foreign, errors) = await NewPageAsync(browser);

        await SignInAsync(page, "auditor");
        var account = await page.GotoAsync(new Uri(f.Server.BaseAddress, "/account").ToString());
        await CheckAsync(page, axe, "everyone-account");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set up a new authenticator app" }).ClickAsync();
        await page.Locator("#otpauth").WaitForAsync();
        var qrWidth = await page.EvaluateAsync<int>("() => document.querySelector('main img').naturalWidth");
        await CheckAsync(page, axe, "everyone-account-new-factor");

        Assert.Equal(OpenSpe.Server.Portal.PortalHeaders.ContentSecurityPolicy, await account!.HeaderValueAsync("content-security-policy"));
        Assert.True(qrWidth > 100, $"the QR code did not render ({qrWidth} px)");
        Assert.StartsWith("otpauth://totp/OpenSPE:auditor", await page.Locator("#otpauth").TextContentAsync(), StringComparison.Ordinal);
        Assert.Empty(foreign);
        Assert.Empty(errors);
    }

    private static string RequireBrowserAndAxe()
    {
        TestChromium.Require();

        var axe = Environment.GetEnvironmentVariable("SPE_TEST_AXE") ?? "/usr/local/share/openspe-test/axe-core/axe.min.js";
        if (!File.Exists(axe))
        {
            Requirements.Missing("axe-core is not installed (bash .ci/install-axe.sh)");
        }

        return File.ReadAllText(axe);
    }

    private async Task<(IPage Page, List<string> Foreign, List<string> Errors)> NewPageAsync(IBrowser browser)
    {
        var context = await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        var origin = f.Server.BaseAddress.GetLeftPart(UriPartial.Authority);
        var foreign = new List<string>();
        var errors = new List<string>();
        page.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(origin, StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal)
                && !request.Url.StartsWith("blob:", StringComparison.Ordinal) && !request.Url.StartsWith("wss://" + f.Server.BaseAddress.Authority, StringComparison.Ordinal))
            {
                foreign.Add(request.Url);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        page.Console += (_, message) =>
        {
            // Note: a CSP refusal shows only here (a script or style the policy blocked).
            if (message.Type == "error")
            {
                errors.Add(message.Text + " " + message.Location);
            }
        };
        return (page, foreign, errors);
    }

    private async Task SignInAsync(IPage page, string username)
    {
        var (password, _) = f.Server.Credentials(username);
        await page.GotoAsync(f.Server.BaseAddress.ToString());
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in to the portal" }).ClickAsync();
        await page.Locator("input[name=username]").FillAsync(username);
        await page.Locator("input[name=password]").FillAsync(password);
        await page.Locator("input[name=otp]").FillAsync(await PortalBrowser.OneTimeCodeAsync(f.Server, username));
        await page.Locator("button[type=submit]").ClickAsync();
        try
        {
            await page.WaitForURLAsync(f.Server.BaseAddress.ToString(), new() { Timeout = 60_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{username} did not land on the portal: {page.Url}: {await page.Locator("body").TextContentAsync()}");
        }

        Assert.Contains($"Signed in as {username}", await page.Locator("header").TextContentAsync(), StringComparison.Ordinal);
    }

    private static async Task CheckAsync(IPage page, string axe, string screenshot)
    {
        await page.EvaluateAsync(axe);
        var violations = await page.EvaluateAsync<JsonElement>(RunAxe);
        Assert.True(violations.GetArrayLength() == 0, $"{page.Url}: {string.Join(" | ", violations.EnumerateArray())}");
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory(), screenshot + ".png") });
    }

    private static string ScreenshotDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "OpenSpe.slnx")))
        {
            directory = directory.Parent;
        }

        var path = Path.Combine(directory?.FullName ?? AppContext.BaseDirectory, "docs", "screenshots");
        Directory.CreateDirectory(path);
        return path;
    }
}
