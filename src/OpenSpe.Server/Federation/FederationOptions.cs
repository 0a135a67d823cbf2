using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The federation listener and what it admits (section <c>Federation</c>). Off unless <see cref="Listen"/> is set; then the
/// CA, the revocation list, this node's certificate and key, and the allow-list of peers are all required.
/// </summary>
internal sealed class FederationOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Federation";

    /// <summary>Where the federation listener binds (<c>host:port</c>, e.g. <c>0.0.0.0:8444</c>); empty: federation is off.</summary>
    public string? Listen { get; set; }

    /// <summary>The federation CA certificate (PEM): the only root a peer's certificate may chain to.</summary>
    public string? CaCertificate { get; set; }

    /// <summary>The federation CA's revocation list (PEM), re-read whenever the file changes.</summary>
    public string? Crl { get; set; }

    /// <summary>This node's certificate (PEM), issued by the federation CA; its DNS name is the node's name.</summary>
    public string? Certificate { get; set; }

    /// <summary>This node's private key (PEM).</summary>
    public string? Key { get; set; }

    /// <summary>The node names (certificate DNS names) that may call this node.</summary>
    public List<string> AllowedPeers { get; set; } = [];

    /// <summary>The components this node's operator allows to run here, whatever a permit approves.</summary>
    public List<string> AllowedComponents { get; set; } = [];

    /// <summary>The permit issuers (HDABs) whose signed permits this node accepts, besides its own.</summary>
    public List<TrustedPermitIssuer> TrustedPermitIssuers { get; set; } = [];

    /// <summary>The peers this node calls as the coordinator of a federated analysis: each node name (as the permit's
    /// <c>datasets[].node</c> and the peer's certificate name it) and its federation address (<c>https://host:port</c>).</summary>
    public List<FederationPeerAddress> Peers { get; set; } = [];

    /// <summary>The deadline of each call this node makes to a peer (a GLM round's task: submit, run, watch to the end).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan PeerCallDeadline { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Largest message a call may send or receive.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Calls one peer may start per second (token bucket, with <see cref="PeerBurst"/>); more are refused with RESOURCE_EXHAUSTED.</summary>
    [Range(1, 100_000)]
    public int PeerCallsPerSecond { get; set; } = 50;

    /// <summary>Calls one peer may start at once above its steady rate.</summary>
    [Range(1, 100_000)]
    public int PeerBurst { get; set; } = 100;

    /// <summary>Streams (WatchTask, Train) one peer may hold open at once; more are refused with RESOURCE_EXHAUSTED.</summary>
    [Range(1, 10_000)]
    public int PeerMaxStreams { get; set; } = 16;

    /// <summary>
    /// Tasks one peer may hold at this node at once (running, waiting for a component slot, or ended and not yet watched to the
    /// end); more are refused with RESOURCE_EXHAUSTED, so one peer cannot take the node's task table from the others.
    /// </summary>
    [Range(1, 1000)]
    public int PeerMaxTasks { get; set; } = 16;

    /// <summary>
    /// Federated components at work at once at this node, whoever asked (a task's run, a <c>Train</c> stream's opening or round):
    /// each stages data and works a sandboxed runner (up to <see cref="ComponentMemoryBytes"/> and a core); the others wait
    /// (<see cref="FederatedComponentGate"/>).
    /// </summary>
    [Range(1, 1000)]
    public int MaxRunningComponents { get; set; } = 4;

    /// <summary>Components that may wait for one of <see cref="MaxRunningComponents"/>; beyond them a task is refused with RESOURCE_EXHAUSTED.</summary>
    [Range(0, 10_000)]
    public int ComponentQueue { get; set; } = 64;

    /// <summary>Events a task holds for its watcher; when full, the task waits for the watcher (bounded memory whatever the peer reads).</summary>
    [Range(1, 10_000)]
    public int TaskEventBuffer { get; set; } = 16;

    /// <summary>The longest deadline a caller may ask for; every call must carry one.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxDeadline { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a session's decrypted copy of the project's data (see <see cref="DecryptedCopies"/>) outlives its last round; the
    /// next round of the analysis normally comes within milliseconds, so this only bounds how long plaintext waits for it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan DecryptedCopyIdle { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The most a federated component (<see cref="SandboxedAnalysis"/>) may print as its answer; a longer answer is refused and
    /// nothing of it leaves the node. A GLM's aggregate of 50 columns is about 60 KB.
    /// </summary>
    [Range(1024, 64L << 20)]
    public long ComponentOutputMaxBytes { get; set; } = 1 << 20;

    /// <summary>
    /// How many runners this node keeps alive between the rounds of analysis sessions (a GLM's Fisher scoring rounds, see
    /// <see cref="DecryptedCopies"/>); a session beyond them starts a runner per round instead. Each kept runner is a .NET process
    /// in the project's sandbox (tens of MB resident) until its session's copy goes.
    /// </summary>
    [Range(0, 1000)]
    public int ComponentRunnersKept { get; set; } = 8;

    /// <summary>Memory of one federated component's sandbox (the workspace operator's ceiling still applies).</summary>
    [Range(64L << 20, 1L << 40)]
    public long ComponentMemoryBytes { get; set; } = 2L << 30;

    /// <summary>Refusals of one peer (by name, or address without a certificate) within <see cref="RefusalWindow"/> that raise a security alert.</summary>
    [Range(1, 10_000)]
    public int RefusalAlertThreshold { get; set; } = 5;

    /// <summary>The window in which refusals are counted for the alert.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RefusalWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>HTTP/2 keepalive: how long a connection may be idle before the node pings it.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeepAlivePing { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a connection this node opened to a peer is used for new calls (it closes once its calls end); a bound beside the
    /// check of the peer's certificate before each call.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan PeerConnectionLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often the certificate of a peer with a stream open, served here or called from here, is judged again; a stream whose
    /// peer is no longer admitted is cut.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan StreamRecheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>True when the listener is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Listen);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled)
        {
            yield break;
        }

        foreach (var (name, value) in new[] { (nameof(CaCertificate), CaCertificate), (nameof(Crl), Crl), (nameof(Certificate), Certificate), (nameof(Key), Key) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                yield return new ValidationResult($"Federation:{name} is required when Federation:Listen is set.", [name]);
            }
        }

        if (AllowedPeers.Count == 0)
        {
            yield return new ValidationResult("Federation:AllowedPeers must name at least one peer when Federation:Listen is set.", [nameof(AllowedPeers)]);
        }

        foreach (var peer in Peers)
        {
            if (string.IsNullOrWhiteSpace(peer.Name) || !Uri.TryCreate(peer.Address, UriKind.Absolute, out var address) || address.Scheme != Uri.UriSchemeHttps)
            {
                yield return new ValidationResult("Federation:Peers: each needs Name and an https:// Address.", [nameof(Peers)]);
            }
        }

        foreach (var issuer in TrustedPermitIssuers)
        {
            var sources = new[] { issuer.Keys, issuer.KeysFile, issuer.KeysUrl }.Count(s => !string.IsNullOrWhiteSpace(s));
            if (string.IsNullOrWhiteSpace(issuer.Issuer) || sources != 1)
            {
                // Note: two sources are refused, not ranked, because which keys a node trusts must be read off its configuration.
                yield return new ValidationResult(
                    $"Federation:TrustedPermitIssuers: the entry for '{issuer.Issuer}' needs Issuer and exactly one of Keys (a JWK set), KeysFile or KeysUrl; it has {sources}.",
                    [nameof(TrustedPermitIssuers)]);
            }

            if (!string.IsNullOrWhiteSpace(issuer.KeysUrl))
            {
                if (!Uri.TryCreate(issuer.KeysUrl, UriKind.Absolute, out var keysUrl) || keysUrl.Scheme != Uri.UriSchemeHttps)
                {
                    yield return new ValidationResult(
                        $"Federation:TrustedPermitIssuers: the KeysUrl of '{issuer.Issuer}' must be an absolute https:// URL (the issuer SPE's /.well-known/spe-keys.json).",
                        [nameof(TrustedPermitIssuers)]);
                }

                // Note: required because a key URL alone is only as strong as DNS and the public CAs; the pin makes it the issuer SPE's own certificate.
                if (!Hosting.PinnedHttpClient.IsFingerprint(issuer.KeysCertificateFingerprint))
                {
                    yield return new ValidationResult(
                        $"Federation:TrustedPermitIssuers: the entry for '{issuer.Issuer}' has KeysUrl and needs KeysCertificateFingerprint, the SHA-256 (64 hex digits) of the issuer SPE's TLS certificate.",
                        [nameof(TrustedPermitIssuers)]);
                }
            }

            // Note: required, with no default, because the node named here is the only peer whose tasks for this issuer's permits
            // run here; a missing name must stop the start rather than leave every peer (or none) trusted to coordinate them.
            if (!Core.Federation.FederationNames.IsValid(issuer.Node))
            {
                yield return new ValidationResult(
                    $"Federation:TrustedPermitIssuers: the entry for '{issuer.Issuer}' needs Node, the federation node name of the SPE whose HDAB it is (the peer that coordinates its permits).",
                    [nameof(TrustedPermitIssuers)]);
            }
        }
    }
}

/// <summary>A permit issuer this node trusts: its <c>iss</c> and its public keys (the JWK set its <c>/.well-known/spe-keys.json</c> serves).</summary>
internal sealed class TrustedPermitIssuer
{
    /// <summary>The issuer as the signed permit's <c>iss</c> names it.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>The issuer's JWK set, inline.</summary>
    public string? Keys { get; set; }

    /// <summary>A file holding the issuer's JWK set.</summary>
    public string? KeysFile { get; set; }

    /// <summary>
    /// Where the issuer SPE serves its JWK set (https only: its <c>/.well-known/spe-keys.json</c>), fetched at the first permit,
    /// cached, and fetched again (at most once a minute) when a permit names a key id not among them.
    /// </summary>
    public string? KeysUrl { get; set; }

    /// <summary>The SHA-256 fingerprint of the TLS certificate <see cref="KeysUrl"/> must present; required with it.</summary>
    public string? KeysCertificateFingerprint { get; set; }

    /// <summary>
    /// The federation node name (its certificate's DNS name) of the SPE whose HDAB this is: the one peer that coordinates this
    /// issuer's permits, so the only one whose tasks (<c>SubmitTask</c>, <c>Train</c>) for them this node runs. Required.
    /// </summary>
    public string? Node { get; set; }
}

/// <summary>A peer this node calls: its node name and its federation listener's address.</summary>
internal sealed class FederationPeerAddress
{
    /// <summary>The node name (its certificate's DNS name).</summary>
    public string Name { get; set; } = "";

    /// <summary>Its federation address, <c>https://host:port</c>.</summary>
    public string Address { get; set; } = "";
}
