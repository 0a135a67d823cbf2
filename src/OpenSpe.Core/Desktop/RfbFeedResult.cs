namespace OpenSpe.Core.Desktop;

/// <summary>What one chunk did: whether the session must close, and the input events it carried.</summary>
/// <param name="CloseReason">Why the session must close, or <see cref="RfbCloseReason.None"/>.</param>
/// <param name="KeyEvents">KeyEvent messages completed in this chunk.</param>
/// <param name="PointerEvents">PointerEvent messages completed in this chunk.</param>
public readonly record struct RfbFeedResult(RfbCloseReason CloseReason, int KeyEvents, int PointerEvents)
{
    /// <summary>The session must close; nothing more is forwarded.</summary>
    public bool IsClosed => CloseReason != RfbCloseReason.None;

    /// <summary>The person pressed a key or moved the pointer: the idle timer starts again (TIR-24).</summary>
    public bool InputSeen => KeyEvents + PointerEvents > 0;
}
