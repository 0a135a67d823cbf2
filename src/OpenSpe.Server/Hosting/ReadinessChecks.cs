using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Hosting;

/// <summary>
/// The readiness checks behind <c>/readyz</c>: ASP.NET Core health checks tagged <see cref="Tag"/>, which each module adds
/// for what it needs to serve. A check reports its state in one word under <see cref="StateKey"/>.
/// </summary>
internal static class ReadinessChecks
{
    /// <summary>The tag of the checks <c>/readyz</c> runs.</summary>
    public const string Tag = "ready";

    /// <summary>The key of a check's one-word state in its data (e.g. <c>ok</c>, <c>unreachable</c>).</summary>
    public const string StateKey = "state";

    /// <summary>Runs the checks <c>/readyz</c> runs (those tagged <see cref="Tag"/>).</summary>
    public static Task<HealthReport> RunAsync(HealthCheckService health, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(health);
        return health.CheckHealthAsync(c => c.Tags.Contains(Tag), cancellationToken);
    }

    /// <summary>A result with its one-word state.</summary>
    public static HealthCheckResult Result(bool healthy, string state, string? description = null) =>
        new(healthy ? HealthStatus.Healthy : HealthStatus.Unhealthy, description, data: new Dictionary<string, object> { [StateKey] = state });

    /// <summary>The state a check reported, or <c>unknown</c>.</summary>
    public static string StateOf(HealthReport report, string name)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Entries.TryGetValue(name, out var entry) && entry.Data.TryGetValue(StateKey, out var state) && state is string text ? text : "unknown";
    }
}

/// <summary>The database answers a query.</summary>
internal sealed class DatabaseReadinessCheck(SpeDatabase database) : IHealthCheck
{
    public const string Name = "database";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenConnectionAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(cancellationToken);
            return ReadinessChecks.Result(true, "ok");
        }
        catch (System.Data.Common.DbException)
        {
            return ReadinessChecks.Result(false, "unreachable");
        }
    }
}
