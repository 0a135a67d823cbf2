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

    /// <summary>
    /// The policy for a permit's <c>policies.clipboard</c> value (<c>none</c>, <c>in</c>, <c>out</c>, <c>both</c>;
    /// see <see cref="Permits.PermitDefaults.ClipboardModes"/>). Note: anything else, a missing value included,
    /// opens nothing, so a value the validator missed fails closed.
    /// </summary>
    public static RfbPolicy ForClipboardMode(string? mode, int maxCutTextLength = DefaultMaxCutTextLength) => mode switch
    {
        "in" => new RfbPolicy(ClipboardIn: true, MaxCutTextLength: maxCutTextLength),
        "out" => new RfbPolicy(ClipboardOut: true, MaxCutTextLength: maxCutTextLength),
        "both" => new RfbPolicy(true, true, maxCutTextLength),
        _ => new RfbPolicy(MaxCutTextLength: maxCutTextLength),
    };
}
