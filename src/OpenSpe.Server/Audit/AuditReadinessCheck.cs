using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Audit;

/// <summary>The audit log takes writes: the writer is healthy and the store accepts a write (nothing is served otherwise).</summary>
internal sealed class AuditReadinessCheck(AuditStore store, IAuditLog audit) : IHealthCheck
{
    public const string Name = "audit";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await store.OpenAsync(cancellationToken);
            try
            {
                await AuditStore.ProbeWritableAsync(connection, cancellationToken);
            }
            catch (System.Data.Common.DbException)
            {
                return ReadinessChecks.Result(false, "not-writable");
            }
        }
        catch (System.Data.Common.DbException)
        {
            return ReadinessChecks.Result(false, "unknown");
        }

        return audit.IsHealthy ? ReadinessChecks.Result(true, "ok") : ReadinessChecks.Result(false, "failing");
    }
}
