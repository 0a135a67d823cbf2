namespace OpenSpe.Core.Desktop;

/// <summary>
/// One desktop connection seen by the gateway: the policy, and the two filters that frame and police
/// the RFB (RFC 6143) streams between the browser and the VNC server. The filters do no I/O; the
/// gateway feeds each the bytes it reads from one side and writes what the filter emits to the other.
/// </summary>
/// <remarks>
/// Each direction is fed by one thread at a time; the two directions may run at once. What one
/// direction learns in the handshake and the other checks is kept here: each fact is written while
/// the filter handles the bytes that reveal it, before it emits them, so the peer's answer to those
/// bytes always finds it set.
/// </remarks>
public sealed class RfbSession
{
    /// <summary>The longest desktop name ServerInit may carry.</summary>
    public const int MaxNameLength = 4096;

    /// <summary>The most encodings one SetEncodings may list (noVNC sends about 25).</summary>
    public const int MaxEncodings = 512;

    private volatile bool _serverVersionSeen;
    private volatile bool _clientVersionSeen;
    private volatile bool _securityOffered;
    private volatile bool _securityChosen;
    private volatile bool _securityAccepted;
    private volatile bool _clientInitSent;
    private volatile bool _serverInitSeen;
    private volatile bool _updateRequested;
    private volatile bool _extendedClipboardKept;
    private volatile bool _lastRectKept;
    private volatile int _bytesPerPixel;

    /// <summary>Creates the session and its two filters.</summary>
    /// <param name="policy">The permit's clipboard policy.</param>
    /// <param name="observer">Told of every dropped clipboard attempt, or null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The policy's maximum cut text length is negative.</exception>
    public RfbSession(RfbPolicy policy, IRfbSessionObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfNegative(policy.MaxCutTextLength, nameof(policy));
        Policy = policy;
        Observer = observer;
        ClientToServer = new RfbClientFilter(this);
        ServerToClient = new RfbServerFilter(this);
    }

    /// <summary>The policy the filters apply.</summary>
    public RfbPolicy Policy { get; }

    /// <summary>The filter of the browser's bytes on their way to the VNC server.</summary>
    public RfbClientFilter ClientToServer { get; }

    /// <summary>The filter of the VNC server's bytes on their way to the browser.</summary>
    public RfbServerFilter ServerToClient { get; }

    internal IRfbSessionObserver? Observer { get; }

    internal bool ServerVersionSeen { get => _serverVersionSeen; set => _serverVersionSeen = value; }

    internal bool ClientVersionSeen { get => _clientVersionSeen; set => _clientVersionSeen = value; }

    internal bool SecurityOffered { get => _securityOffered; set => _securityOffered = value; }

    internal bool SecurityChosen { get => _securityChosen; set => _securityChosen = value; }

    internal bool SecurityAccepted { get => _securityAccepted; set => _securityAccepted = value; }

    internal bool ClientInitSent { get => _clientInitSent; set => _clientInitSent = value; }

    internal bool ServerInitSeen { get => _serverInitSeen; set => _serverInitSeen = value; }

    internal bool UpdateRequested { get => _updateRequested; set => _updateRequested = value; }

    internal bool ExtendedClipboardKept { get => _extendedClipboardKept; set => _extendedClipboardKept = value; }

    internal bool LastRectKept { get => _lastRectKept; set => _lastRectKept = value; }

    /// <summary>From ServerInit, then from the client's SetPixelFormat (allowed only before the first update request).</summary>
    internal int BytesPerPixel { get => _bytesPerPixel; set => _bytesPerPixel = value; }
}
