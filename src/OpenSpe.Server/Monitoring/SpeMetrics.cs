using System.Diagnostics.Metrics;

namespace OpenSpe.Server.Monitoring;

/// <summary>
/// The SPE's own instruments (meter <c>OpenSpe</c>), exported with the platform's HTTP, Kestrel and runtime meters at
/// <c>/metrics</c> (SPER-9, TIR-13, TIR-27). Most are fed from the audit records as they are appended
/// (<see cref="AuditMetrics"/>), so a metric counts exactly what the audit log holds; byte counts come from the code
/// that moves the bytes.
/// </summary>
internal sealed class SpeMetrics
{
    /// <summary>The meter's name, as the exporter selects it.</summary>
    public const string MeterName = "OpenSpe";

    private readonly Counter<long> _signIns;
    private readonly Counter<long> _secondFactorFailures;
    private readonly Counter<long> _rateLimitRefusals;
    private readonly Histogram<double> _auditAppend;
    private readonly Counter<long> _auditFailures;
    private readonly Counter<long> _uploadBytes;
    private readonly Counter<long> _exportBytes;
    private readonly Counter<long> _clipboardDropped;
    private readonly UpDownCounter<long> _desktopSessions;
    private readonly UpDownCounter<long> _terminalSessions;
    private readonly UpDownCounter<long> _jobsRunning;

    /// <summary>Creates the instruments on a meter from <paramref name="meters"/> (so each host, and each test server, has its own).</summary>
    public SpeMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _signIns = meter.CreateCounter<long>("spe.signin.attempts", "{attempt}", "Sign-in attempts by outcome (success, denied) and, for refusals, reason.");
        _secondFactorFailures = meter.CreateCounter<long>("spe.signin.second_factor.failures", "{attempt}", "Sign-ins refused at the second factor (wrong, replayed or missing one-time code; wrong recovery code).");
        _rateLimitRefusals = meter.CreateCounter<long>("spe.rate_limit.refusals", "{request}", "Requests refused by the rate limiter (429).");
        _auditAppend = meter.CreateHistogram<double>("spe.audit.append.duration", "s", "Time from handing an audit record to the writer to its durable commit.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        _auditFailures = meter.CreateCounter<long>("spe.audit.append.failures", "{record}", "Audit records that could not be written (the request that needed one was refused).");
        _uploadBytes = meter.CreateCounter<long>("spe.upload.bytes", "By", "Encrypted upload bytes accepted into the staging area.");
        _exportBytes = meter.CreateCounter<long>("spe.export.bytes", "By", "Bytes of approved exports sent to their requesters.");
        _clipboardDropped = meter.CreateCounter<long>("spe.clipboard.dropped", "{attempt}", "Clipboard transfers the permit does not allow, dropped by the desktop or terminal gateway, by workspace and direction.");
        _desktopSessions = meter.CreateUpDownCounter<long>("spe.desktop.sessions.open", "{session}", "Open remote desktop sessions.");
        _terminalSessions = meter.CreateUpDownCounter<long>("spe.terminal.sessions.open", "{session}", "Open web terminal sessions.");
        _jobsRunning = meter.CreateUpDownCounter<long>("spe.jobs.running", "{job}", "Batch jobs running in project sandboxes.");
    }

    public void SignIn(string outcome, string? reason) =>
        _signIns.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("reason", reason ?? "none"));

    public void SecondFactorFailed(string reason) => _secondFactorFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void RateLimitRefused() => _rateLimitRefusals.Add(1);

    public void AuditAppended(TimeSpan elapsed) => _auditAppend.Record(elapsed.TotalSeconds);

    public void AuditAppendFailed() => _auditFailures.Add(1);

    public void UploadBytes(long bytes) => _uploadBytes.Add(bytes);

    public void ExportBytes(long bytes) => _exportBytes.Add(bytes);

    public void ClipboardDropped(string workspace, string direction) =>
        _clipboardDropped.Add(1, new KeyValuePair<string, object?>("workspace", workspace), new KeyValuePair<string, object?>("direction", direction));

    public void DesktopSessions(int change) => _desktopSessions.Add(change);

    public void TerminalSessions(int change) => _terminalSessions.Add(change);

    public void JobsRunning(int change) => _jobsRunning.Add(change);
}
