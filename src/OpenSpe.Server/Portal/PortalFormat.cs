using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Html;

namespace OpenSpe.Server.Portal;

/// <summary>How the portal writes values for people.</summary>
internal static class PortalFormat
{
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
}
