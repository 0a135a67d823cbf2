using System.Diagnostics;
using Microsoft.Playwright;

namespace OpenSpe.Bench;

/// <summary>
/// The browser upload page's figure for <c>upload --browser</c>: the same file uploaded through <c>/upload/{project}</c> in Debian's
/// Chromium (headless, driven by Playwright), timed from the click to the page's verified result, with the time until
/// encryption starts (the plaintext SHA-256 pass) reported apart.
/// </summary>
internal static class BrowserUploadBenchmark
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>Uploads <paramref name="file"/> as the holder whose token is <paramref name="token"/>; returns the timings and the page's result.</summary>
    public static async Task<(double Seconds, double HashSeconds, string Result, string? Sha256)> RunAsync(Uri baseUrl, string project, string dataset, string token, string file)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var context = await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true });
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{baseUrl}upload/{project}#token={Uri.EscapeDataString(token)}");
        await page.Locator("#form-section").WaitForAsync(new() { State = WaitForSelectorState.Visible });
        await page.Locator("#dataset").FillAsync(dataset);
        await page.Locator("#file").SetInputFilesAsync(file);

        var clock = Stopwatch.StartNew();
        await page.Locator("#start").ClickAsync();
        await page.WaitForFunctionAsync("() => (document.querySelector('#phase')?.textContent || '').startsWith('Encrypting')", null,
            new() { Timeout = 1_800_000, PollingInterval = 20 });
        var hashed = clock.Elapsed.TotalSeconds;
        await page.Locator("#result").WaitForAsync(new() { State = WaitForSelectorState.Visible, Timeout = 1_800_000 });
        var seconds = clock.Elapsed.TotalSeconds;
        var result = await page.Locator("#result").TextContentAsync() ?? "";
        var sha = await page.EvaluateAsync<string?>("() => window.speUploadResult ? window.speUploadResult.sha256 : null");
        return (seconds, hashed, result, sha);
    }
}
