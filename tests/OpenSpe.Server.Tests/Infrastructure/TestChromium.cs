using Microsoft.Playwright;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>
/// The one place the browser tests start Debian's Chromium through Playwright (no browser download: the package's binary), so
/// the flags that make it run headless on these machines are set once.
/// </summary>
public static class TestChromium
{
    /// <summary>Where Debian's chromium package puts the browser.</summary>
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Skips the test (or fails it under SPE_REQUIRE_ALL=1) when Chromium is not installed.</summary>
    public static void Require()
    {
        if (!File.Exists(ExecutablePath))
        {
            Requirements.Missing("Chromium is not installed (apt-get install chromium)");
        }
    }

    /// <summary>Starts a headless Chromium through <paramref name="playwright"/> once <see cref="Require"/> passed.</summary>
    // Note: --no-sandbox because the tests run as root in containers where Chromium's own sandbox cannot start; the other
    // flags keep the browser from calling home (nothing may leave the machine in a test).
    public static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        Require();
        return playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }
}

/// <summary>
/// One headless Chromium for a test class (a class fixture), started on first use so a class whose tests skip never starts
/// it; each test takes its own browser context.
/// </summary>
public sealed class SharedChromium : IAsyncDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The browser, started on the first call (skips the test when Chromium is not installed).</summary>
    public async Task<IBrowser> BrowserAsync()
    {
        TestChromium.Require();
        await _lock.WaitAsync();
        try
        {
            _playwright ??= await Playwright.CreateAsync();
            return _browser ??= await TestChromium.LaunchAsync(_playwright);
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        _lock.Dispose();
    }
}
