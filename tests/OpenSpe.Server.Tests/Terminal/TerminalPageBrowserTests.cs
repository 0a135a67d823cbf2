using Microsoft.Playwright;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Terminal;

/// <summary>
/// The terminal page in a real browser (Debian's Chromium driven by Playwright, headless): terms, ticket, xterm.js served by the
/// SPE under its strict policy, the gateway, a real shell in a bubblewrap sandbox, a command typed and its output on the page.
/// </summary>
public sealed class TerminalPageBrowserTests(TerminalFixture f) : IClassFixture<TerminalFixture>
{
    [Fact]
    [Trait("Requirement", "TIR-19")]
    [Trait("Requirement", "SPER-7")]
    public async Task The_terminal_page_shows_the_terms_then_runs_a_typed_command_and_shows_its_output_in_Chromium()
    {
        f.RequireTerminal();
        var axe = OpenSpe.Server.Tests.Portal.PortalChromium.RequireBrowserAndAxe();

        if (!File.Exists("/usr/local/share/openspe/xterm/lib/xterm.mjs"))
        {
            Requirements.Missing("xterm.js is not installed (deploy/install-xterm.sh)");
        }

        var (_, projectId) = await f.IssueAsync();
        var token = await f.Server.TokenForAccountAsync("researcher");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await TestChromium.LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        var console = new List<string>();
        page.Console += (_, message) => console.Add(message.Text);

        var response = await page.GotoAsync($"{f.Server.BaseAddress}terminal/{projectId}#token={Uri.EscapeDataString(token)}");
        Assert.True(response?.Ok, $"the page answered {response?.Status}");
        try
        {
            await page.Locator("#terms-text").WaitForAsync(new() { State = WaitForSelectorState.Visible, Timeout = 15_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no terms at {page.Url}: {await page.ContentAsync()}; {string.Join("; ", errors.Concat(console))}");
        }

        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);
        await page.Locator("#accept").ClickAsync();
        await page.WaitForFunctionAsync("() => (document.querySelector('#status')?.textContent || '').startsWith('Connected')", null, new() { Timeout = 20_000, PollingInterval = 100 });
        // The page the portal's "open the terminal" leads to passes axe like every portal page (issue #18 item 3).
        await OpenSpe.Server.Tests.Portal.PortalChromium.CheckAsync(page, axe, "researcher-terminal");
        await page.Locator("#screen").ClickAsync();
        await page.Keyboard.TypeAsync("echo PAGE-$((20+3))");
        await page.Keyboard.PressAsync("Enter");
        try
        {
            await page.WaitForFunctionAsync("() => (document.querySelector('#screen .xterm-rows')?.textContent || '').includes('PAGE-23')", null,
                new() { Timeout = 20_000, PollingInterval = 100 });
        }
        catch (TimeoutException)
        {
            var audit = string.Join(" | ", (await f.AuditAsync(projectId)).Select(r => $"{r.Action} {r.HttpStatus} {r.DetailsJson}"));
            Assert.Fail($"no output; status '{await page.Locator("#status").TextContentAsync()}'; screen '{await page.Locator("#screen").TextContentAsync()}'; "
                + $"{string.Join("; ", errors.Concat(console))}; audit: {audit}");
        }

        Assert.Equal("default-src 'none'", response!.Headers["content-security-policy"].Split(';')[0]);
        Assert.Empty(errors);
        // xterm.js styles its rows with <style> elements it makes at run time: the policy must let them in (and nothing else inline).
        Assert.DoesNotContain(console, m => m.Contains("Content Security Policy", StringComparison.Ordinal));
        Assert.Single(await f.AuditAsync(projectId, "terminal.ticket.used"));
        Assert.Single(await f.AuditAsync(projectId, "terminal.session.opened"));
    }
}
