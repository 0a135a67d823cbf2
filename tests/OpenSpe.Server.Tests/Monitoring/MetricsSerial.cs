namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// The tests that read <c>/metrics</c> run alone, after the parallel ones. Note: a metrics exporter listens to every
/// meter named <c>OpenSpe</c> in the process, not only its own server's (System.Diagnostics.Metrics has no per-host
/// scope a listener can select by), and a stopping test server completes its instruments' streams; with other test
/// servers starting and stopping beside it, a counter could read another server's value or vanish. In production one
/// process hosts one server.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsSerial
{
    public const string Name = "metrics";
}
