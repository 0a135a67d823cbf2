using System.Text.Json;
using Microsoft.Playwright;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// What axe does not check, checked in the real browser (issue #18, "keyboard only works everywhere; readable on a laptop
/// screen and a large monitor"): the Tab key reaches every control of a page in turn, the skip link first, each with a
/// visible focus ring, and no page scrolls sideways at a laptop's or a large monitor's width.
/// </summary>
public static class PortalKeyboard
{
    /// <summary>Widths a page must fit without scrolling sideways: a 13-inch laptop and a large monitor.</summary>
    private static readonly int[] Widths = [1280, 1920];

    // Note: what a keyboard user can reach: visible, enabled controls and anything with a non-negative tabindex. Each
    // gets its index in document order, so the walk below can say which ones the Tab key never reached. The radio buttons
    // of one group share an index: Tab stops once in a group and the arrow keys move within it.
    private const string MarkFocusable = """
        () => {
          const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]';
          const all = [...document.querySelectorAll(selector)].filter(e =>
            !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden');
          const stops = [];
          const groups = new Map();
          for (const e of all) {
            const group = e.type === 'radio' && e.name ? (e.form?.id ?? '') + '/' + e.name : null;
            if (group !== null && groups.has(group)) { e.setAttribute('data-kbd', groups.get(group)); continue; }
            const index = String(stops.length);
            if (group !== null) { groups.set(group, index); }
            e.setAttribute('data-kbd', index);
            stops.push(e.outerHTML.slice(0, 120));
          }
          return stops;
        }
        """;

    private const string Focused = """
        () => {
          const e = document.activeElement;
          if (!e || e === document.body) { return null; }
          const style = getComputedStyle(e);
          const ring = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 || style.boxShadow !== 'none';
          return { index: e.getAttribute('data-kbd'), ring, html: e.outerHTML.slice(0, 120) };
        }
        """;

    private const string SidewaysOverflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth";

    /// <summary>
    /// Walks <paramref name="page"/> with the Tab key from the top and fails when a control is never reached, focus is
    /// trapped, the first stop is not the skip link, or a focused control shows no focus ring; then fails when the page is
    /// wider than the window at 1280 or 1920 pixels. Leaves the window as it found it.
    /// </summary>
    /// <param name="page">The page, loaded.</param>
    /// <param name="skipLink">
    /// False for a page with no block of controls before its content (the sign-in and upload pages: nothing to skip, so their
    /// first stop is their first field); the portal's pages, with their navigation first, must start with the skip link.
    /// </param>
    public static async Task CheckAsync(IPage page, bool skipLink = true)
    {
        ArgumentNullException.ThrowIfNull(page);
        var controls = await page.EvaluateAsync<string[]>(MarkFocusable);
        await page.EvaluateAsync("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }");
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var noRing = new List<string>();
        string? first = null;
        // Note: Tab also steps through the parts of a date or time field (day, month, year, hours, minutes: up to six stops
        // in one control), so the walk allows that many per control before it calls a control unreachable or focus trapped.
        for (var press = 0; press < (controls.Length * 6) + 3 && reached.Count < controls.Length; press++)
        {
            await page.Keyboard.PressAsync("Tab");
            var focused = await page.EvaluateAsync<JsonElement?>(Focused);
            if (focused is not { ValueKind: JsonValueKind.Object } element || element.GetProperty("index").GetString() is not { } index)
            {
                continue;
            }

            first ??= element.GetProperty("html").GetString();
            reached.Add(index);
            if (!element.GetProperty("ring").GetBoolean())
            {
                noRing.Add(element.GetProperty("html").GetString()!);
            }
        }

        var missed = controls.Where((_, i) => !reached.Contains(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.True(missed.Count == 0, $"{page.Url}: the Tab key never reached {missed.Count} of {controls.Length} controls: {string.Join(" | ", missed)}");
        Assert.True(!skipLink || (first is not null && first.Contains("class=\"skip\"", StringComparison.Ordinal)), $"{page.Url}: the first Tab stop is not the skip link: {first}");
        Assert.True(first is not null || controls.Length == 0, $"{page.Url}: the Tab key reached nothing");
        Assert.True(noRing.Count == 0, $"{page.Url}: focused without a visible focus ring: {string.Join(" | ", noRing)}");

        var viewport = page.ViewportSize;
        foreach (var width in Widths)
        {
            await page.SetViewportSizeAsync(width, viewport?.Height ?? 900);
            var overflow = await page.EvaluateAsync<int>(SidewaysOverflow);
            Assert.True(overflow <= 0, $"{page.Url}: at {width} px the page is {overflow} px wider than the window (it scrolls sideways)");
        }

        if (viewport is not null)
        {
            await page.SetViewportSizeAsync(viewport.Width, viewport.Height);
        }
    }
}
