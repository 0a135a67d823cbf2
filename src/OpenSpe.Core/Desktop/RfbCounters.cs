namespace OpenSpe.Core.Desktop;

/// <summary>
/// Running totals of one direction, for the session's audit record. Written only by the filter's
/// caller thread; read them once the pump of that direction has stopped.
/// </summary>
public sealed class RfbCounters
{
    /// <summary>Bytes fed to the filter.</summary>
    public long BytesIn { get; internal set; }

    /// <summary>Bytes the filter emitted to forward.</summary>
    public long BytesForwarded { get; internal set; }

    /// <summary>KeyEvent messages (client to server only).</summary>
    public long KeyEvents { get; internal set; }

    /// <summary>PointerEvent messages (client to server only).</summary>
    public long PointerEvents { get; internal set; }

    /// <summary>Cut texts forwarded.</summary>
    public long ClipboardForwarded { get; internal set; }

    /// <summary>Cut texts dropped by the policy.</summary>
    public long ClipboardDropped { get; internal set; }

    /// <summary>Payload bytes of the dropped cut texts.</summary>
    public long ClipboardDroppedBytes { get; internal set; }
}
