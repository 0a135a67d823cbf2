using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Monitoring;

namespace OpenSpe.Server.UnitTests.Monitoring;

/// <summary>What each committed audit record does to the metrics (SPER-9, TIR-27).</summary>
public sealed class AuditMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly IMeterFactory _meters;
    private readonly AuditMetrics _audit;

    public AuditMetricsTests()
    {
        _meters = _services.GetRequiredService<IMeterFactory>();
        _audit = new AuditMetrics(new SpeMetrics(_meters));
    }

    public void Dispose() => _services.Dispose();

    [Fact]
    [Trait("Requirement", "TIR-27")]
    public void Desktop_and_terminal_sessions_are_counted_open_until_their_closed_record()
    {
        using var desktops = Collect<long>("spe.desktop.sessions.open");
        using var terminals = Collect<long>("spe.terminal.sessions.open");

        Commit("desktop.session.opened");
        Commit("desktop.session.opened");
        Commit("desktop.session.closed");
        Commit("terminal.session.opened");

        Assert.Equal(1, desktops.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(1, terminals.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    [Trait("Requirement", "TIR-27")]
    public void A_job_that_ended_while_it_waited_does_not_lower_the_running_count()
    {
        using var running = Collect<long>("spe.jobs.running");

        Commit("job.started");
        Commit("job.cancelled", ("ran", "false"));
        Commit("job.ended", ("ran", "true"));
        Commit("job.started");

        Assert.Equal(1, running.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public void Sign_in_refusals_at_the_second_factor_are_counted_apart_from_wrong_passwords()
    {
        using var attempts = Collect<long>("spe.signin.attempts");
        using var secondFactor = Collect<long>("spe.signin.second_factor.failures");

        Commit("auth.signin", AuditOutcome.Denied, ("reason", "password-invalid"));
        Commit("auth.signin", AuditOutcome.Denied, ("reason", "otp-replayed"));
        Commit("auth.signin", AuditOutcome.Denied, ("reason", "recovery-code-invalid"));
        Commit("auth.signin", AuditOutcome.Success);

        var all = attempts.GetMeasurementSnapshot();
        Assert.Equal(4, all.Count);
        Assert.Equal(3, all.Count(m => (string?)m.Tags["outcome"] == "denied"));
        Assert.Equal(["otp-replayed", "recovery-code-invalid"], secondFactor.GetMeasurementSnapshot().Select(m => (string?)m.Tags["reason"]).Order(StringComparer.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "TIR-27")]
    public void Dropped_clipboard_transfers_are_counted_by_workspace_and_direction()
    {
        using var dropped = Collect<long>("spe.clipboard.dropped");

        Commit("desktop.clipboard.out.dropped", AuditOutcome.Denied);
        Commit("terminal.clipboard.in.dropped", AuditOutcome.Denied);

        Assert.Equal(["desktop/out", "terminal/in"], dropped.GetMeasurementSnapshot().Select(m => $"{m.Tags["workspace"]}/{m.Tags["direction"]}"));
    }

    [Fact]
    [Trait("Requirement", "TIR-27")]
    public void Export_bytes_come_from_the_download_streams_closed_record_only()
    {
        using var bytes = Collect<long>("spe.export.bytes");

        Commit("exports.download", AuditOutcome.Success, ("stream", "opened"));
        Commit("exports.download", AuditOutcome.Success, ("stream", "closed"), ("bytes", "4096"));
        Commit("exports.list", AuditOutcome.Success, ("stream", "closed"), ("bytes", "99"));

        Assert.Equal([4096L], bytes.GetMeasurementSnapshot().Select(m => m.Value));
    }

    [Fact]
    [Trait("Requirement", "TIR-27")]
    public void Each_commit_is_timed_and_each_failure_counted()
    {
        using var latency = Collect<double>("spe.audit.append.duration");
        using var failures = Collect<long>("spe.audit.append.failures");

        _audit.Committed(Entry("anything", AuditOutcome.Success, []), 1, TimeSpan.FromMilliseconds(3));
        _audit.Failed(Entry("anything", AuditOutcome.Success, []));

        Assert.Equal([0.003], latency.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal(1, failures.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    private MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(_meters, SpeMetrics.MeterName, instrument);

    private void Commit(string action, params (string Key, string Value)[] details) => Commit(action, AuditOutcome.Success, details);

    private void Commit(string action, AuditOutcome outcome, params (string Key, string Value)[] details) =>
        _audit.Committed(Entry(action, outcome, details), 1, TimeSpan.FromMilliseconds(1));

    private static AuditEntry Entry(string action, AuditOutcome outcome, (string Key, string Value)[] details) =>
        new(new AuditActor("id", "someone", [], null, null, null), action, AuditResource.None, outcome, null, null,
            details.ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal));
}
