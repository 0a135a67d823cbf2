namespace OpenSpe.Core.Desktop;

/// <summary>The direction of an RFB stream.</summary>
public enum RfbDirection
{
    /// <summary>From the browser into the desktop (the clipboard's <c>in</c>).</summary>
    ClientToServer,

    /// <summary>From the desktop to the browser (the clipboard's <c>out</c>).</summary>
    ServerToClient,
}

/// <summary>A cut text the policy did not let through. Only its size is kept, never its contents.</summary>
/// <param name="Direction">Which way it was going.</param>
/// <param name="Length">The payload length in bytes (for the extended format, flags included).</param>
/// <param name="Extended">Whether it was an Extended Clipboard message.</param>
public readonly record struct RfbClipboardDrop(RfbDirection Direction, int Length, bool Extended);

/// <summary>Told of each dropped clipboard attempt as it is decided, so the gateway can audit every one (TIR-25, TIR-26).</summary>
public interface IRfbSessionObserver
{
    /// <summary>A cut text was dropped; its payload is skipped, not kept.</summary>
    void ClipboardDropped(RfbClipboardDrop drop);
}
