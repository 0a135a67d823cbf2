using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Permits;

/// <summary>Permit lifecycle settings.</summary>
internal sealed class PermitOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Permits";

    /// <summary>How long a terminated project's data is kept before it is erased (crypto-shredded).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan ErasureGracePeriod { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Longest the lifecycle service sleeps even when nothing is due (guards against clock jumps).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxSleep { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Something that must happen when a project is terminated (workspaces stopped, transfers refused, sessions cut).</summary>
internal interface IProjectTerminationHook
{
    /// <summary>Called once when the project is terminated.</summary>
    Task OnProjectTerminatedAsync(string projectId, CancellationToken cancellationToken);
}
