namespace OpenSpe.Workspaces;

/// <summary>
/// The server's only way to read a project's <c>/outputs</c> and to place files into its <c>/project/imports</c> (the
/// airlock, EHDSR-12, SPER-3). Nothing here names a host path or uid, so a cluster runtime can implement it over its volumes.
/// </summary>
/// <remarks>
/// Note: the files come from a researcher's sandbox, so every name and every file is hostile until proven otherwise:
/// an implementation must refuse symbolic links at every step, anything but regular files, files linked elsewhere and files
/// over the size limit, and must hash exactly the bytes it copies, so a file changed while it is read is frozen as read.
/// </remarks>
public interface IProjectFiles
{
    /// <summary>Whether project files can be reached on this server, and if not, why.</summary>
    WorkspaceAvailability Availability { get; }

    /// <summary>
    /// Copies the output file <paramref name="relativeName"/> (a path under <c>/outputs</c>, <c>/</c>-separated) into
    /// <paramref name="destination"/>, at most <paramref name="maxBytes"/> bytes, and returns the size and SHA-256 of the
    /// bytes copied.
    /// </summary>
    /// <exception cref="ProjectFileException">The name or the file is refused; nothing trustworthy was copied.</exception>
    Task<ProjectFileCopy> CopyOutputAsync(string projectId, string relativeName, Stream destination, long maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// Places <paramref name="content"/> read-only at <c>/project/imports/&lt;<paramref name="folder"/>&gt;/&lt;<paramref name="fileName"/>&gt;</c>
    /// and returns the size and SHA-256 written. Asked again after a failure, it replaces an incomplete earlier copy, and returns a
    /// complete one's size and SHA-256 without writing (the caller compares them with what was reviewed).
    /// </summary>
    /// <exception cref="ProjectFileException">The names are refused, a path step is not a plain directory, or an entry the airlock did not write is there.</exception>
    Task<ProjectFileCopy> PlaceImportAsync(string projectId, string folder, string fileName, Stream content, CancellationToken cancellationToken);

    /// <summary>
    /// The regular files under the project's <c>/outputs</c> whose names an export request accepts: relative name, size and
    /// last change, sorted by name, at most <paramref name="maxFiles"/> of them and never deeper than an export name may be.
    /// Symbolic links are neither listed nor followed, and no file is opened: only directory entries are read.
    /// </summary>
    /// <exception cref="ProjectFileException">The project's files cannot be reached on this server (<see cref="ProjectFileError.Unavailable"/>).</exception>
    Task<ProjectOutputListing> ListOutputsAsync(string projectId, int maxFiles, CancellationToken cancellationToken);
}

/// <summary>One file of <c>/outputs</c>: its name relative to <c>/outputs</c> (<c>/</c>-separated), size in bytes and last change.</summary>
public sealed record ProjectOutputFile(string Name, long Size, DateTimeOffset Modified);

/// <summary>The files of <c>/outputs</c>; <see cref="Truncated"/> is true when there were more than the bound, or more entries than were walked.</summary>
public sealed record ProjectOutputListing(IReadOnlyList<ProjectOutputFile> Files, bool Truncated);

/// <summary>What was copied: its size and the SHA-256 (lower-case hex) of exactly those bytes.</summary>
public sealed record ProjectFileCopy(long Size, string Sha256);

/// <summary>Why a project file was refused.</summary>
public enum ProjectFileError
{
    /// <summary>The name is not a plain relative name (empty, absolute, <c>..</c>, odd characters, too deep).</summary>
    InvalidName,

    /// <summary>No such file.</summary>
    NotFound,

    /// <summary>A step of the path is a symbolic link.</summary>
    SymbolicLink,

    /// <summary>Not a regular file (directory, FIFO, socket, device).</summary>
    NotRegularFile,

    /// <summary>The file has more than one name (a hard link), or is not owned by the project.</summary>
    Foreign,

    /// <summary>Larger than allowed.</summary>
    TooLarge,

    /// <summary>The target exists already (imports).</summary>
    Exists,

    /// <summary>No project files on this server (no runtime).</summary>
    Unavailable,
}

/// <summary>A project file was refused; <see cref="Error"/> says why. The message names no host path.</summary>
public sealed class ProjectFileException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ProjectFileException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ProjectFileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ProjectFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="error"/>.</summary>
    public ProjectFileException(ProjectFileError error, string message)
        : base(message) => Error = error;

    /// <summary>Why.</summary>
    public ProjectFileError Error { get; }
}
