namespace OpenSpe.Server.Hosting;

/// <summary>
/// The one server that owns a data directory: an exclusive lock (flock through
/// <see cref="FileShare.None"/>) on <c>server.lock</c>, held open for the server's lifetime and
/// released by the kernel when the process ends, even after kill -9.
/// </summary>
internal sealed class DataDirectoryLock : IDisposable
{
    /// <summary>The lock file's name inside the data directory.</summary>
    public const string FileName = "server.lock";

    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file) => _file = file;

    /// <summary>Takes the lock, or refuses with one line when another server holds it.</summary>
    /// <exception cref="SpeConfigurationException">Another server (in this or another process) holds the directory.</exception>
    public static DataDirectoryLock Acquire(DataDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var path = directory.File(FileName);
        try
        {
            // Note: taken before anything else is read or written in the directory, because a second server
            // on a live directory used to append its own records to the live server's audit chain.
            return new DataDirectoryLock(new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }));
        }
        catch (IOException ex)
        {
            throw new SpeConfigurationException($"data directory {directory.Path} is in use by another server ({path} is locked); stop that server or use another data directory", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new SpeConfigurationException($"data directory {directory.Path} cannot be locked ({path}): {ex.Message}", ex);
        }
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _file.Dispose();
}
