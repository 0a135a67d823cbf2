using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Airlock;

/// <summary>
/// At start, removes what an interrupted export check or import placement left in <c>airlock-work/</c>: plaintext of project
/// files that no request still needs (the request itself is frozen and encrypted, or was never stored).
/// </summary>
/// <remarks>
/// Note: the data directory's lock lets one server at a time use it, so nothing is in flight when this runs; without it a
/// crash would leave outputs in clear on the server's disk indefinitely.
/// </remarks>
internal sealed class AirlockWorkSweep : IModuleStart
{
    /// <summary>The work directory's name under the data directory.</summary>
    public const string DirectoryName = "airlock-work";

    public int Order => ModuleStartOrder.Airlock;

    /// <summary>The work directory (0700, made if missing): where the airlock's plaintext may be for a moment.</summary>
    public static string Ensure(DataDirectory data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var work = data.File(DirectoryName);
        Directory.CreateDirectory(work, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return work;
    }

    public Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var work = services.GetRequiredService<DataDirectory>().File(DirectoryName);
        if (!Directory.Exists(work))
        {
            return Task.CompletedTask;
        }

        var entries = Directory.EnumerateFileSystemEntries(work).ToList();
        foreach (var entry in entries)
        {
            if (Directory.Exists(entry) && !File.GetAttributes(entry).HasFlag(FileAttributes.ReparsePoint))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }

        if (entries.Count > 0)
        {
            AirlockLog.LeftoversRemoved(services.GetRequiredService<ILogger<AirlockWorkSweep>>(), entries.Count);
        }

        return Task.CompletedTask;
    }
}
