using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Permits;

/// <summary>
/// The halts in force have been read within <c>Halts:StalenessBound</c>: an instance that cannot tell serves no project
/// request, so a load balancer should route around it.
/// </summary>
internal sealed class HaltReadinessCheck(HaltRegistry halts) : IHealthCheck
{
    public const string Name = "halts";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(halts.IsStale ? ReadinessChecks.Result(false, "unread") : ReadinessChecks.Result(true, "ok"));
}
