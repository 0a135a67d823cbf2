using OpenSpe.Disclosure;
using OpenSpe.Disclosure.Descriptions;
using OpenSpe.Server.Hosting;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Airlock;

/// <summary>
/// Takes an export's files out of the workspace's <c>/outputs</c> once: each is copied through <see cref="IProjectFiles"/>
/// (no symlinks, regular files of the project only, size-limited, hashed as copied) into a private work directory, checked
/// there with the disclosure library under the permit's policy, and frozen from that copy — so what was checked, hashed and
/// frozen is the same bytes, whatever the sandbox does to <c>/outputs</c> meanwhile.
/// </summary>
/// <remarks>
/// Note: the work directory is under the server's data directory (0700) and is removed when the intake is disposed; the files
/// are plaintext there for the moment of the check, as they were in <c>/outputs</c>, which is on the same host's disk.
/// </remarks>
internal sealed class OutputIntake : IDisposable
{
    private readonly string _directory;

    private OutputIntake(string directory) => _directory = directory;

    /// <summary>The files taken, in request order, with what was copied.</summary>
    public List<(string Name, string Path, ProjectFileCopy Copy)> Files { get; } = [];

    /// <summary>Creates an empty intake directory for <paramref name="requestId"/>.</summary>
    public static OutputIntake Create(DataDirectory data, string requestId)
    {
        var directory = Path.Combine(AirlockWorkSweep.Ensure(data), requestId);
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new OutputIntake(directory);
    }

    /// <summary>Copies the output <paramref name="name"/> in; <paramref name="keep"/> false for a check input that is not exported.</summary>
    public async Task<ProjectFileCopy> TakeAsync(IProjectFiles files, string projectId, string name, long maxBytes, bool keep, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var path = Path.Combine(_directory, name);
        ProjectFileCopy copy;
        await using (var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            copy = await files.CopyOutputAsync(projectId, name, target, maxBytes, cancellationToken);
        }

        if (keep)
        {
            Files.Add((name, path, copy));
        }

        return copy;
    }

    /// <summary>Runs the automatic checks on the files taken.</summary>
    public DisclosureReport Check(DisclosurePolicy policy, IReadOnlyCollection<string> allowedTypes, IReadOnlyList<OutputDescription> descriptions) =>
        new OutputChecker(policy, allowedTypes).Check([.. Files.Select(f => f.Path)], descriptions);

    /// <summary>Opens a taken file's frozen bytes.</summary>
    public static FileStream Open(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);

    /// <inheritdoc />
    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
