using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Workspaces.Bubblewrap;

namespace OpenSpe.Workspaces.Tests;

/// <summary>
/// A real bubblewrap runtime over throw-away directories (root under /tmp, plaintext under /dev/shm) and a uid range
/// of its own, shared by the tests of a class.
/// </summary>
public sealed partial class SandboxFixture : IAsyncDisposable
{
    private static int instances;

    public SandboxFixture()
    {
        var name = "openspe-ws-test-" + Guid.NewGuid().ToString("N")[..12];
        Options = new WorkspaceOptions
        {
            Root = Path.Join(Path.GetTempPath(), name),
            PlaintextRoot = Path.Join("/dev/shm", name),
            // Note: a uid range per fixture and process, so parallel test classes and runs never share a project uid.
            UidRangeStart = 400_000 + (Environment.ProcessId % 1000 * 100) + (Interlocked.Increment(ref instances) % 10 * 10_000),
            UidRangeSize = 100,
        };
        Identities = new ProjectIdentities(Options);
        Staging = new TmpfsPlaintextStaging(Options, Identities, NullLogger<TmpfsPlaintextStaging>.Instance);
        Runtime = new BubblewrapRuntime(Options, Identities, Staging, NullLogger<BubblewrapRuntime>.Instance);
    }

    public WorkspaceOptions Options { get; }

    internal ProjectIdentities Identities { get; }

    internal TmpfsPlaintextStaging Staging { get; }

    internal BubblewrapRuntime Runtime { get; }

    /// <summary>Skips (or under SPE_REQUIRE_ALL=1 fails) when this machine cannot run sandboxes.</summary>
    public void RequireSandbox()
    {
        if (!Runtime.Availability.IsAvailable)
        {
            var reason = "bubblewrap sandboxes unavailable: " + Runtime.Availability.Reason + " (apt-get install bubblewrap)";
            if (Environment.GetEnvironmentVariable("SPE_REQUIRE_ALL") == "1")
            {
                Assert.Fail(reason + " (SPE_REQUIRE_ALL=1)");
            }

            Assert.Skip(reason);
        }
    }

    /// <summary>Runs a shell script in the project's sandbox and collects what it printed.</summary>
    public async Task<SandboxResult> RunAsync(string projectId, string script, string member = "alice", IPlaintextLease? data = null,
        WorkspaceLimits? limits = null, string? input = null)
    {
        RequireSandbox();
        var spec = new WorkspaceSpec
        {
            ProjectId = projectId,
            Member = member,
            Command = ["/bin/sh", "-c", script],
            Data = data,
            Limits = limits ?? WorkspaceLimits.Default,
        };
        await using var process = await Runtime.StartAsync(spec, TestContext.Current.CancellationToken);
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(Encoding.UTF8.GetBytes(input), TestContext.Current.CancellationToken);
        }

        await process.StandardInput.DisposeAsync();
        var output = ReadAllAsync(process.StandardOutput);
        var error = ReadAllAsync(process.StandardError);
        var exit = await process.Completion;
        return new SandboxResult(exit, await output, await error);
    }

    public static async Task<string> ReadAllAsync(Stream stream)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Stages one file as a project's plaintext.</summary>
    internal Task<IPlaintextLease> StageAsync(string projectId, string name, string content) =>
        Staging.AcquireAsync(projectId, async (writer, ct) =>
        {
            await using var stream = writer.Create(name);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(content), ct);
        }, TestContext.Current.CancellationToken);

    /// <summary>
    /// Host processes running as <paramref name="uid"/> that still have an address space (from /proc), for checks that a
    /// stop left nothing. A killed process gives up its memory first and leaves its cgroup after that; it then stays a
    /// zombie until the host's init reaps it (≈ 0.4 s here), holding no memory, files or CPU: neither counts as running.
    /// </summary>
    public static IReadOnlyList<int> HostProcessesOf(int uid)
    {
        var result = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var status = File.ReadAllLines(Path.Join(directory, "status"));
                var line = status.FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
                var hasMemory = status.Any(l => l.StartsWith("VmSize:", StringComparison.Ordinal));
                if (line is not null && hasMemory && line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == uid.ToString(System.Globalization.CultureInfo.InvariantCulture))
                {
                    result.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        return result;
    }

    /// <summary>The numeric owner of a host path (by stat(1), as .NET has no API for it).</summary>
    public static async Task<string> OwnerAsync(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true })!;
        var owner = await stat.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await stat.WaitForExitAsync(TestContext.Current.CancellationToken);
        return owner.Trim();
    }

    public async ValueTask DisposeAsync()
    {
        await Runtime.DisposeAsync();
        foreach (var directory in new[] { Options.Root, Options.PlaintextRoot })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial int Umask(int mask);

    /// <summary>
    /// Note: the whole test assembly runs under umask 077, as the real server does, so a host file created without an
    /// explicit mode is unreadable to the sandbox uid and the tests that read it fail (the bug that broke an earlier attempt).
    /// </summary>
    [ModuleInitializer]
    internal static void UseServerUmask() => _ = Umask(0x3F);
}

public sealed record SandboxResult(WorkspaceExit Exit, string Output, string Error);

/// <summary>Staging for tests that do not care about datasets: the project may see no dataset, and everything written stays.</summary>
internal static class PlaintextStagingTestExtensions
{
    public static Task<IPlaintextLease> AcquireAsync(this IPlaintextStaging staging, string projectId,
        Func<IPlaintextWriter, CancellationToken, Task> populate, CancellationToken cancellationToken) =>
        staging.AcquireAsync(projectId, _ => Task.FromResult<IReadOnlyCollection<string>>([]), (writer, _, token) => populate(writer, token), cancellationToken);
}
