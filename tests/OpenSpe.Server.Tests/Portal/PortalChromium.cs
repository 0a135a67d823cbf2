using System.Text.Json;
using Microsoft.Playwright;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// What the portal's Chromium tests share: a page that records every request to another origin and every script error, the
/// sign-in through the portal's own form (password and one-time code), and the axe-core check with a screenshot into
/// docs/screenshots/.
/// </summary>
public static class PortalChromium
{
    private const string RunAxe = """
        async () => {
          const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
          return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
        }
        """;

    public static string RequireBrowserAndAxe()
    {
        TestChromium.Require();

        var axe = Environment.GetEnvironmentVariable("SPE_TEST_AXE") ?? "/usr/local/share/openspe-test/axe-core/axe.min.js";
        if (!File.Exists(axe))
        {
            Requirements.Missing("axe-core is not installed (bash .ci/install-axe.sh)");
        }

        return File.ReadAllText(axe);
    }

    public static async Task<(IPage Page, List<string> Foreign, List<string> Errors)> NewPageAsync(IBrowser browser, SpeTestServer server)
    {
        var context = await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        var origin = server.BaseAddress.GetLeftPart(UriPartial.Authority);
        var foreign = new List<string>();
        var errors = new List<string>();
        page.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(origin, StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal)
                && !request.Url.StartsWith("blob:", StringComparison.Ordinal) && !request.Url.StartsWith("wss://" + server.BaseAddress.Authority, StringComparison.Ordinal))
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

    public static async Task SignInAsync(IPage page, SpeTestServer server, string username)
    {
        var (password, _) = server.Credentials(username);
        await page.GotoAsync(server.BaseAddress.ToString());
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in to the portal" }).ClickAsync();
        await page.Locator("input[name=username]").FillAsync(username);
        await page.Locator("input[name=password]").FillAsync(password);
        await page.Locator("input[name=otp]").FillAsync(await PortalBrowser.OneTimeCodeAsync(server, username));
        await page.Locator("button[type=submit]").ClickAsync();
        try
        {
            // Note: the landing is the URL and the signed-in header; waiting for the page's load event as well failed once in CI
            // with the signed-in page already on screen (a subresource of a loaded machine), which says nothing about sign-in.
            await page.WaitForURLAsync(server.BaseAddress.ToString(), new() { Timeout = 60_000, WaitUntil = WaitUntilState.Commit });
            await page.Locator("header").GetByText($"Signed in as {username}").WaitForAsync(new() { Timeout = 60_000 });
        }
        catch (TimeoutException)
        {
            // Note: once in CI (load above 20) the wait timed out while the body read just after it showed the signed-in
            // header; what counts is where the browser is now, so only a page still not signed in fails here.
            var header = await page.Locator("header").AllTextContentsAsync();
            if (!header.Any(text => text.Contains($"Signed in as {username}", StringComparison.Ordinal)))
            {
                Assert.Fail($"{username} did not land on the portal: {page.Url}: {await page.Locator("body").TextContentAsync()}");
            }
        }

        Assert.Contains($"Signed in as {username}", await page.Locator("header").TextContentAsync(), StringComparison.Ordinal);
    }

    public static async Task CheckAsync(IPage page, string axe, string screenshot)
    {
        await page.EvaluateAsync(axe);
        var violations = await page.EvaluateAsync<JsonElement>(RunAxe);
        Assert.True(violations.GetArrayLength() == 0, $"{page.Url}: {string.Join(" | ", violations.EnumerateArray())}");
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory(), screenshot + ".png") });
    }

    private static string ScreenshotDirectory()
    {
        var path = Path.Combine(RepositoryRoot.Path, "docs", "screenshots");
        Directory.CreateDirectory(path);
        return path;
    }
}
