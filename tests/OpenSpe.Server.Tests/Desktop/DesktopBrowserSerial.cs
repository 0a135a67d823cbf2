namespace OpenSpe.Server.Tests.Desktop;

/// <summary>
/// The browser tests that wait for a desktop to draw its first frame (a real Xtigervnc, window manager and xterm in a
/// sandbox, rendered by noVNC in Chromium) run one class at a time: three of them at once, beside the rest of the suite on
/// two cores, starved the desktops past their timeouts (seen when a second test process ran beside CI).
/// </summary>
[CollectionDefinition(Name)]
public sealed class DesktopBrowserSerial
{
    public const string Name = "desktop-browser";
}
