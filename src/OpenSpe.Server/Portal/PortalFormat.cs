using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Html;

namespace OpenSpe.Server.Portal;

/// <summary>How the portal writes values for people, and reads the times they type.</summary>
internal static partial class PortalFormat
{
    /// <summary>
    /// Reads a moment typed with its offset (<c>2026-12-05T09:30+01:00</c>, or <c>Z</c>). Note: a time without its offset
    /// would be read in the server's zone, not the person's; the HDAB clock needs the instant, so the portal asks for the
    /// offset rather than guessing it.
    /// </summary>
    public static bool TryParseInstant(string text, out DateTimeOffset instant)
    {
        instant = default;
        var trimmed = text.Trim();
        return WithOffset().IsMatch(trimmed) && DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant);
    }

    /// <summary>
    /// A moment with its offset shown (<c>2026-12-03 12:00 UTC+00:00</c>) in a <c>time</c> element; the portal's script
    /// rewrites it in the browser's time zone, again with the offset.
    /// </summary>
    public static IHtmlContent Time(DateTimeOffset at)
    {
        var iso = at.ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture);
        var shown = at.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC" + at.ToString("zzz", CultureInfo.InvariantCulture);
        return new HtmlString($"<time datetime=\"{WebUtility.HtmlEncode(iso)}\">{WebUtility.HtmlEncode(shown)}</time>");
    }

    /// <summary>How long until <paramref name="until"/>, in words (or that it has passed).</summary>
    public static string Remaining(DateTimeOffset until, DateTimeOffset now)
    {
        var left = until - now;
        if (left <= TimeSpan.Zero)
        {
            return PortalText.Get("ValidityEnded");
        }

        return left.TotalDays >= 1
            ? PortalText.Format("ValidityDaysLeft", (int)left.TotalDays, left.Hours)
            : PortalText.Format("ValidityHoursLeft", (int)left.TotalHours, left.Minutes);
    }

    [GeneratedRegex(@"(Z|[+-]\d{2}:?\d{2})$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex WithOffset();
}
