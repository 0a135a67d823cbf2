using System.Globalization;
using System.Resources;

namespace OpenSpe.Server.Portal;

/// <summary>The portal's texts, from <c>PortalText.resx</c> (English; other EU languages as satellite resource files).</summary>
internal static class PortalText
{
    private static readonly ResourceManager Resources = new("OpenSpe.Server.Portal.PortalText", typeof(PortalText).Assembly);

    /// <summary>The text named <paramref name="name"/>; a missing name is a bug, so it throws.</summary>
    public static string Get(string name) =>
        Resources.GetString(name, CultureInfo.CurrentUICulture) ?? throw new InvalidOperationException($"The portal text {name} is missing from PortalText.resx.");

    /// <summary>The text named <paramref name="name"/> with <paramref name="args"/> filled in.</summary>
    public static string Format(string name, params object?[] args) => string.Format(CultureInfo.CurrentCulture, Get(name), args);

    /// <summary>The heading of a page that shows a refusal of <paramref name="status"/>.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => Get("StatusBadRequest"),
        401 => Get("StatusSignedOut"),
        403 => Get("StatusForbidden"),
        404 => Get("StatusNotFound"),
        409 => Get("StatusConflict"),
        422 => Get("StatusInvalid"),
        423 => Get("StatusHalted"),
        429 => Get("StatusTooMany"),
        503 => Get("StatusUnavailable"),
        _ => Get("StatusFailed"),
    };
}
