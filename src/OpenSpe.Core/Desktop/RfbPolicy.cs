namespace OpenSpe.Core.Desktop;

/// <summary>
/// What the desktop gateway lets cross between the browser and the VNC server, from the permit.
/// Note: both clipboard directions are closed unless the permit opens them, because TIR-25 requires
/// clipboard sharing to be restricted by default and changed only at the HDAB's discretion.
/// </summary>
/// <param name="ClipboardIn">Cut text may go from the browser into the desktop (ClientCutText).</param>
/// <param name="ClipboardOut">Cut text may go from the desktop to the browser (ServerCutText).</param>
/// <param name="MaxCutTextLength">The largest cut text payload in bytes either way; a longer one closes the session.</param>
public sealed record RfbPolicy(bool ClipboardIn = false, bool ClipboardOut = false, int MaxCutTextLength = RfbPolicy.DefaultMaxCutTextLength)
{
    /// <summary>1 MiB: far more than text a person pastes, far less than what would let the clipboard stand in for file transfer.</summary>
    public const int DefaultMaxCutTextLength = 1024 * 1024;

    /// <summary>Whether either direction is open (the Extended Clipboard pseudo-encoding is then kept).</summary>
    public bool AnyClipboard => ClipboardIn || ClipboardOut;
}
