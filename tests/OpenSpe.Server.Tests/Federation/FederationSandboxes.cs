using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// The real bubblewrap sandbox for a test federation node (FSPER-4: every federated component runs in it), on directories and a
/// uid range of its own, so parallel fixtures and runs never share a project uid.
/// </summary>
internal sealed class FederationSandboxes : IDisposable
{
    private static int sandboxes;
    private readonly List<string> _directories = [];

    /// <summary>Adds node <paramref name="name"/>'s sandbox settings to <paramref name="settings"/>.</summary>
    public void Configure(IDictionary<string, string?> settings, string name)
    {
        var sandbox = $"openspe-fed-test-{name}-{Guid.NewGuid().ToString("N")[..10]}";
        _directories.Add(Path.Join(Path.GetTempPath(), sandbox));
        _directories.Add(Path.Join("/dev/shm", sandbox));
        settings["Workspaces:Runtime"] = "bubblewrap";
        settings["Workspaces:Root"] = Path.Join(Path.GetTempPath(), sandbox);
        settings["Workspaces:PlaintextRoot"] = Path.Join("/dev/shm", sandbox);
        settings["Workspaces:UidRangeStart"] = (800_000 + (Environment.ProcessId % 1000 * 1000) + (Interlocked.Increment(ref sandboxes) % 100 * 10)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Workspaces:UidRangeSize"] = "10";
    }

    /// <summary>Skips (or fails under SPE_REQUIRE_ALL=1) when this machine cannot run the components' sandbox.</summary>
    public static void Require(PermitFixture node)
    {
        var (available, reason) = node.Server.Services.GetRequiredService<FederatedComponentSandbox>().Availability;
        if (!available)
        {
            Requirements.Missing("federated components need the bubblewrap sandbox: " + reason + " (apt-get install bubblewrap)");
        }
    }

    /// <summary>Removes the sandboxes' directories (once the nodes have stopped).</summary>
    public void Dispose()
    {
        foreach (var directory in _directories.Where(Directory.Exists))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
