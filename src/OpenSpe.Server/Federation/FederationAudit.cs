using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The federation's audit records (TIR-33, TIR-34): refused peers (from the TLS handshake, which cannot wait for a write), every
/// call with the peer's certificate identity, permit, component and requester, and the security alert raised when one peer is
/// refused <see cref="FederationOptions.RefusalAlertThreshold"/> times within <see cref="FederationOptions.RefusalWindow"/>.
/// </summary>
/// <remarks>
/// Note: handshake refusals go through a bounded queue, because a flood of bad handshakes must not grow memory; what the
/// queue drops is counted and named in the next record, so the log still shows that refusals were lost, and the alert is
/// decided before the queue, so a flood always raises it.
/// </remarks>
internal sealed class FederationAudit(IAuditLog audit, IOptions<FederationOptions> options, TimeProvider time, ILogger<FederationAudit> logger) : BackgroundService
{
    /// <summary>The action of a refused peer's record.</summary>
    public const string PeerRefused = "federation.peer.refused";

    /// <summary>The action of a call's record.</summary>
    public const string Call = "federation.call";

    /// <summary>The action of one stream message's record, at either end of a streaming call.</summary>
    public const string StreamMessage = "federation.stream.message";

    private readonly Channel<AuditEntry> _queue = Channel.CreateBounded<AuditEntry>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Dictionary<string, Queue<DateTimeOffset>> _refusals = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _dropped;

    /// <summary>Records a refused peer (a handshake, or a call refused before it began) without waiting; raises the alert on repeated refusals.</summary>
    public void Refused(string? peer, EndPoint? remote, string reason, string stage) => Enqueue(Refusal(peer, remote, reason, stage));

    /// <summary>
    /// Records a peer refused on a call over a connection its handshake admitted, and waits until the record is durable; raises the
    /// alert on repeated refusals as <see cref="Refused"/> does.
    /// </summary>
    /// <remarks>Note: waited for, because a call (unlike a handshake) can wait, and its refusal should leave only once on record.</remarks>
    public Task RefusedAsync(string? peer, EndPoint? remote, string reason, string stage, CancellationToken cancellationToken) =>
        audit.AppendAsync(Refusal(peer, remote, reason, stage), cancellationToken);

    private AuditEntry Refusal(string? peer, EndPoint? remote, string reason, string stage)
    {
        var who = FederationPeerAdmission.Describe(peer, remote);
        FederationLog.PeerRefused(logger, who, Address(remote), reason);
        if (CountRefusal(who) is { } count)
        {
            FederationLog.RepeatedRefusals(logger, who, count, options.Value.RefusalWindow);
            Enqueue(new AuditEntry(AuditActor.System, "security.alert", new AuditResource("federation-peer", who, null), AuditOutcome.Denied, null, null,
                new Dictionary<string, string>
                {
                    ["kind"] = "federation-peer-refused-repeatedly",
                    ["peer"] = who,
                    ["refusals"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["window"] = options.Value.RefusalWindow.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
                }));
        }

        return new AuditEntry(Actor(peer, remote), PeerRefused, new AuditResource("federation-peer", who, null), AuditOutcome.Denied, null, null,
            new Dictionary<string, string> { ["peer"] = who, ["reason"] = reason, ["stage"] = stage });
    }

    /// <summary>Writes one call's record and waits until it is durable.</summary>
    public Task CallAsync(FederationCallRecord call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var details = new Dictionary<string, string>
        {
            ["peer"] = call.Peer,
            ["method"] = call.Method,
            ["status"] = call.Status,
        };
        Add(details, "permit", call.Permit);
        Add(details, "component", call.Component);
        Add(details, "requester", call.Requester);
        Add(details, "task", call.TaskId);
        Add(details, "reason", call.Reason);
        Add(details, "certificate", call.CertificateThumbprint);
        var outcome = call.Status == "OK" ? AuditOutcome.Success : call.Denied ? AuditOutcome.Denied : AuditOutcome.Error;
        return audit.AppendAsync(new AuditEntry(Actor(call.Peer, call.Remote), Call, new AuditResource("federation-task", call.TaskId, null), outcome, null, null, details), cancellationToken);
    }

    /// <summary>Records a stream message this node served to (or read from) a peer, and waits until it is durable.</summary>
    public Task ServedMessageAsync(FederationCall call, string direction, long index, long bytes)
    {
        ArgumentNullException.ThrowIfNull(call);
        var details = MessageDetails(call.Peer, call.Method, direction, index, bytes, call.Permit, call.Component, call.Requester, call.TaskId);
        Add(details, "certificate", call.Thumbprint);
        // Note: not cancelled with the call, because a message that was read or is about to be written must be on record either way.
        return audit.AppendAsync(new AuditEntry(Actor(call.Peer, call.Remote), StreamMessage, new AuditResource("federation-task", call.TaskId, null), AuditOutcome.Success,
            null, null, details), CancellationToken.None);
    }

    /// <summary>Records a stream message of a call this node made to <paramref name="peer"/> as a coordinator, and waits until it is durable.</summary>
    public Task SentMessageAsync(FederationCallScope scope, string peer, string method, string direction, long index, long bytes)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var details = MessageDetails(peer, method, direction, index, bytes, scope.PermitId, scope.Component, scope.Requester, null);
        return audit.AppendAsync(new AuditEntry(scope.Actor, StreamMessage, new AuditResource("federation-task", null, scope.ProjectId), AuditOutcome.Success, null,
            scope.Trace, details), CancellationToken.None);
    }

    private static Dictionary<string, string> MessageDetails(string peer, string method, string direction, long index, long bytes, string? permit, string? component,
        string? requester, string? task)
    {
        var details = new Dictionary<string, string>
        {
            ["peer"] = peer,
            ["method"] = method,
            ["direction"] = direction,
            ["message"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["bytes"] = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        Add(details, "permit", permit);
        Add(details, "component", component);
        Add(details, "requester", requester);
        Add(details, "task", task);
        return details;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var entry in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            var dropped = Interlocked.Exchange(ref _dropped, 0);
            var written = dropped == 0 ? entry : entry with
            {
                Details = new Dictionary<string, string>(entry.Details ?? new Dictionary<string, string>()) { ["droppedBefore"] = dropped.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            };
            try
            {
                await audit.AppendAsync(written, stoppingToken);
            }
            catch (AuditUnavailableException ex)
            {
                FederationLog.AuditFailed(logger, ex);
            }
        }
    }

    private void Enqueue(AuditEntry entry)
    {
        if (!_queue.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private int? CountRefusal(string who)
    {
        var now = time.GetUtcNow();
        var window = options.Value.RefusalWindow;
        lock (_gate)
        {
            if (!_refusals.TryGetValue(who, out var times))
            {
                // Note: bounded: at most 10,000 distinct peers are tracked; beyond that the oldest windows are forgotten.
                if (_refusals.Count >= 10_000)
                {
                    _refusals.Clear();
                }

                times = new Queue<DateTimeOffset>();
                _refusals[who] = times;
            }

            while (times.Count > 0 && now - times.Peek() > window)
            {
                times.Dequeue();
            }

            times.Enqueue(now);
            // Note: the alert fires when the count reaches the threshold and again at each further multiple, not on every refusal.
            return times.Count % options.Value.RefusalAlertThreshold == 0 ? times.Count : null;
        }
    }

    private static AuditActor Actor(string? peer, EndPoint? remote) =>
        new(peer is null ? null : "federation-peer:" + peer, peer, [], null, Address(remote), null);

    private static string? Address(EndPoint? remote) => remote is IPEndPoint ip ? ip.Address.ToString() : null;

    private static void Add(Dictionary<string, string> details, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            details[key] = value;
        }
    }
}

/// <summary>What one federation call's audit record holds.</summary>
/// <summary>What a coordinator's calls to its peers are for, named in the audit record of each stream message it sends or receives.</summary>
/// <param name="Actor">The signed-in person who started the analysis.</param>
/// <param name="ProjectId">The local project.</param>
/// <param name="PermitId">The permit.</param>
/// <param name="Component">The component, when one analysis is run (null for a run that names it per call).</param>
/// <param name="Requester">The requester as asserted to the peers.</param>
/// <param name="Trace">The trace of the request that started it.</param>
internal sealed record FederationCallScope(AuditActor Actor, string ProjectId, string PermitId, string? Component, string Requester, string? Trace);

internal sealed record FederationCallRecord(string Peer, EndPoint? Remote, string? CertificateThumbprint, string Method, string Status, bool Denied, string? Permit, string? Component, string? Requester, string? TaskId, string? Reason);
