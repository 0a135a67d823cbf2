using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Win32.SafeHandles;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>
/// <see cref="IProjectFiles"/> over the bubblewrap runtime's host directories: a project's <c>/outputs</c> is
/// <c>&lt;Root&gt;/projects/&lt;project&gt;/outputs</c>, its <c>/project</c> is <c>.../project</c>.
/// </summary>
/// <remarks>
/// Note: the server reads these as root, so file permissions protect nothing; what protects is that every step is opened
/// without following symlinks (<see cref="NoFollowFiles"/>), only regular files are read, and a file must belong to the
/// project's own uid and have one name — a hard link to a file of the server, of the host or of another project belongs to
/// someone else (and the kernel's protected_hardlinks stops the sandbox from making one to a file it cannot read).
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed partial class BubblewrapProjectFiles(WorkspaceOptions options, ProjectIdentities identities) : IProjectFiles
{
    private const int MaxDepth = 8;
    private const int BufferSize = 1 << 16;
    private const int WalkFactor = 10;

    /// <inheritdoc />
    public WorkspaceAvailability Availability { get; } = new(true, "");

    /// <inheritdoc />
    public async Task<ProjectFileCopy> CopyOutputAsync(string projectId, string relativeName, Stream destination, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var steps = Steps(relativeName);
        WorkspaceNames.CheckProject(projectId);
        var uid = identities.Find(projectId) ?? throw new ProjectFileException(ProjectFileError.NotFound, $"'{relativeName}' does not exist.");
        var directories = new List<SafeFileHandle>();
        try
        {
            directories.Add(OpenProjectDirectory(projectId, "outputs", directories));
            foreach (var step in steps[..^1])
            {
                directories.Add(NoFollowFiles.OpenDirectory(directories[^1], step));
            }

            var (handle, facts) = NoFollowFiles.OpenRegularFile(directories[^1], steps[^1]);
            using (handle)
            {
                if (facts.Owner != (uint)uid || facts.Links != 1)
                {
                    throw new ProjectFileException(ProjectFileError.Foreign, $"'{relativeName}' is not a file of this project's own (a link, or another owner's).");
                }

                if (facts.Size > maxBytes)
                {
                    throw new ProjectFileException(ProjectFileError.TooLarge, $"'{relativeName}' is larger than {maxBytes} bytes.");
                }

                // Note: the hash is of the bytes copied, in the same pass, so what is frozen is what was hashed even if the
                // sandbox rewrites the file while it is read; a file that grows past the limit while read is refused.
                await using var source = new FileStream(handle, FileAccess.Read, bufferSize: 0);
                return await CopyHashingAsync(source, destination, maxBytes, relativeName, cancellationToken);
            }
        }
        finally
        {
            foreach (var directory in directories)
            {
                directory.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public async Task<ProjectFileCopy> PlaceImportAsync(string projectId, string folder, string fileName, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        CheckComponent(folder);
        CheckComponent(fileName);
        WorkspaceNames.CheckProject(projectId);
        var uid = identities.UidOf(projectId);
        var directories = new List<SafeFileHandle>();
        try
        {
            BubblewrapRuntime.EnsureProjectTree(options, projectId, uid);
            directories.Add(OpenProjectDirectory(projectId, "project", directories));
            // Note: /project/imports and each request's folder belong to root and are 0755: the sandbox reads them and can
            // neither add, change nor remove what the airlock placed.
            directories.Add(NoFollowFiles.EnsureDirectory(directories[^1], "imports", HostFiles.Mode0755, mustBeNew: false));
            var imports = NoFollowFiles.Stat(directories[^1]);
            if (imports.Owner != 0)
            {
                throw new ProjectFileException(ProjectFileError.Foreign, "/project/imports was made by the project, not by the airlock.");
            }

            directories.Add(NoFollowFiles.EnsureDirectory(directories[^1], folder, HostFiles.Mode0755, mustBeNew: false));
            if (await EarlierPlacementAsync(directories[^1], fileName, cancellationToken) is { } earlier)
            {
                return earlier;
            }

            using var handle = NoFollowFiles.CreateFile(directories[^1], fileName);
            ProjectFileCopy copy;
            await using (var target = new FileStream(handle, FileAccess.Write, bufferSize: 0))
            {
                copy = await CopyHashingAsync(content, target, long.MaxValue, fileName, cancellationToken);
                await target.FlushAsync(cancellationToken);
                NoFollowFiles.SetMode(handle, HostFiles.Mode0444);
            }

            return copy;
        }
        finally
        {
            foreach (var directory in directories)
            {
                directory.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public Task<ProjectOutputListing> ListOutputsAsync(string projectId, int maxFiles, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFiles);
        WorkspaceNames.CheckProject(projectId);
        if (identities.Find(projectId) is not { } uid)
        {
            return Task.FromResult(new ProjectOutputListing([], false));
        }

        var opened = new List<SafeFileHandle>();
        try
        {
            SafeFileHandle outputs;
            try
            {
                outputs = OpenProjectDirectory(projectId, "outputs", opened);
            }
            catch (ProjectFileException e) when (e.Error == ProjectFileError.NotFound)
            {
                return Task.FromResult(new ProjectOutputListing([], false)); // no workspace has run yet
            }

            opened.Add(outputs);
            return Task.FromResult(Walk(outputs, (uint)uid, maxFiles, cancellationToken));
        }
        finally
        {
            foreach (var directory in opened)
            {
                directory.Dispose();
            }
        }
    }

    /// <summary>
    /// Walks <c>/outputs</c> depth first, one directory open at a time below it, listing what an export would accept. The walk
    /// reads at most <see cref="WalkFactor"/> times <paramref name="maxFiles"/> entries, so a tree of millions of empty directories
    /// or refused names costs a bounded time; anything cut off by a bound sets <see cref="ProjectOutputListing.Truncated"/>.
    /// </summary>
    private static ProjectOutputListing Walk(SafeFileHandle outputs, uint uid, int maxFiles, CancellationToken cancellationToken)
    {
        var files = new List<ProjectOutputFile>();
        var budget = (long)maxFiles * WalkFactor;
        var truncated = false;
        var full = false; // a bound was reached: the walk stops (a folder too deep only skips that folder)
        var pending = new Stack<(string Prefix, string[] Steps)>();
        pending.Push(("", []));
        while (pending.Count > 0 && !full)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (prefix, steps) = pending.Pop();
            var directories = new List<SafeFileHandle>();
            try
            {
                // Note: every step is opened again from /outputs without following links, so a directory swapped for a symlink
                // between the walk's visits is refused, not entered.
                var current = outputs;
                foreach (var step in steps)
                {
                    directories.Add(NoFollowFiles.OpenDirectory(current, step));
                    current = directories[^1];
                }

                var names = NoFollowFiles.ListNames(current, (int)Math.Min(int.MaxValue, budget + 1));
                budget -= names.Count;
                if (budget < 0)
                {
                    truncated = full = true;
                }

                names.Sort(StringComparer.Ordinal);
                var subdirectories = new List<string>();
                foreach (var name in names)
                {
                    var relative = prefix + name;
                    if (!ComponentPattern().IsMatch(name) || relative.Length > 1024 || NoFollowFiles.TryStatAt(current, name) is not { } facts)
                    {
                        continue;
                    }

                    if (facts.IsDirectory)
                    {
                        if (steps.Length + 1 < MaxDepth)
                        {
                            subdirectories.Add(name);
                        }
                        else
                        {
                            truncated = true;
                        }
                    }
                    else if (facts.IsRegular && facts.Owner == uid && facts.Links == 1)
                    {
                        if (files.Count == maxFiles)
                        {
                            truncated = full = true;
                            break;
                        }

                        files.Add(new ProjectOutputFile(relative, facts.Size, facts.Modified));
                    }
                }

                // Pushed in reverse so that the walk visits them in name order.
                for (var i = subdirectories.Count - 1; i >= 0; i--)
                {
                    pending.Push((prefix + subdirectories[i] + "/", [.. steps, subdirectories[i]]));
                }
            }
            catch (ProjectFileException)
            {
                // A directory that vanished or was swapped for a link while walked is skipped: the listing is a hint for the
                // researcher's choice, and the export request checks each chosen file again.
            }
            finally
            {
                foreach (var directory in directories)
                {
                    directory.Dispose();
                }
            }
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new ProjectOutputListing(files, truncated);
    }

    /// <summary>
    /// What an earlier placement of <paramref name="fileName"/> left, when it is asked again: a complete copy (0444) is hashed and
    /// returned for the caller to compare with what was reviewed; an incomplete one (still 0600: its write failed) is removed.
    /// </summary>
    /// <remarks>
    /// Note: the request's folder belongs to root and is 0755, so only the airlock writes in it; an entry of another kind, owner or
    /// link count there is refused rather than trusted.
    /// </remarks>
    private static async Task<ProjectFileCopy?> EarlierPlacementAsync(SafeFileHandle folder, string fileName, CancellationToken cancellationToken)
    {
        if (NoFollowFiles.TryStatAt(folder, fileName) is not { } existing)
        {
            return null;
        }

        if (!existing.IsRegular || existing.Owner != 0 || existing.Links != 1)
        {
            throw new ProjectFileException(ProjectFileError.Foreign, $"'{fileName}' is in the request's folder already and was not placed by the airlock.");
        }

        if (existing.Mode != HostFiles.Mode0444)
        {
            NoFollowFiles.RemoveFile(folder, fileName);
            return null;
        }

        var (handle, _) = NoFollowFiles.OpenRegularFile(folder, fileName);
        using (handle)
        {
            await using var placed = new FileStream(handle, FileAccess.Read, bufferSize: 0);
            return await CopyHashingAsync(placed, null, long.MaxValue, fileName, cancellationToken);
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> (null: only reads it) and hashes the bytes in the
    /// same pass; more than <paramref name="maxBytes"/> is refused as it is read, whatever the file said its size was.
    /// </summary>
    private static async Task<ProjectFileCopy> CopyHashingAsync(Stream source, Stream? destination, long maxBytes, string shownName, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BufferSize];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
            if (total > maxBytes)
            {
                throw new ProjectFileException(ProjectFileError.TooLarge, $"'{shownName}' is larger than {maxBytes} bytes.");
            }

            sha.AppendData(buffer, 0, read);
            if (destination is not null)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }

        return new ProjectFileCopy(total, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    /// <summary>The path's components, each a plain name; anything else is refused before the disk is touched.</summary>
    internal static string[] Steps(string relativeName)
    {
        var steps = (relativeName ?? "").Split('/');
        if (steps.Length > MaxDepth || relativeName!.Length > 1024)
        {
            throw new ProjectFileException(ProjectFileError.InvalidName, "The name is too long or too deep.");
        }

        foreach (var step in steps)
        {
            CheckComponent(step);
        }

        return steps;
    }

    private static void CheckComponent(string name)
    {
        // Note: no '/', no leading dot (so no '.', '..' or hidden names), no control characters: one plain name per step.
        if (name is null || !ComponentPattern().IsMatch(name))
        {
            throw new ProjectFileException(ProjectFileError.InvalidName, "A name is 1-255 letters, digits, '_', '-', '.', '+', '=', ',' or spaces, not starting with '.', '-' or a space.");
        }
    }

    private SafeFileHandle OpenProjectDirectory(string projectId, string which, List<SafeFileHandle> opened)
    {
        opened.Add(NoFollowFiles.OpenTrustedDirectory(options.Root));
        opened.Add(NoFollowFiles.OpenDirectory(opened[^1], "projects"));
        opened.Add(NoFollowFiles.OpenDirectory(opened[^1], projectId));
        return NoFollowFiles.OpenDirectory(opened[^1], which);
    }

    [GeneratedRegex("^[A-Za-z0-9_+=,][A-Za-z0-9_.+=, -]{0,254}$", RegexOptions.CultureInvariant)]
    private static partial Regex ComponentPattern();
}
