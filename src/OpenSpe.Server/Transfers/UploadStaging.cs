using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Transfers;

/// <summary>
/// Where partial uploads live: <c>&lt;data&gt;/uploads/&lt;uploadId&gt;.part</c>, owner-only. Paths come only
/// from server-generated ids, never from anything the client sent.
/// </summary>
internal sealed class UploadStaging
{
    private readonly string _root;

    /// <summary>Creates the staging area in the data directory.</summary>
    public UploadStaging(DataDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        _root = directory.File("uploads");
        Directory.CreateDirectory(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The staging directory (its file system is the one uploads fill).</summary>
    public string Root => _root;

    /// <summary>True for what an upload id may look like (lower-case letters, digits and '-', at most 64): safe in a file name.</summary>
    public static bool IsUploadId(string value) =>
        value is { Length: > 0 and <= 64 } && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    /// <summary>The staging file of an upload.</summary>
    public string PathOf(string uploadId)
    {
        if (!IsUploadId(uploadId))
        {
            throw new ArgumentException("Not an upload id.", nameof(uploadId));
        }

        return Path.Combine(_root, uploadId + ".part");
    }

    /// <summary>Creates an empty staging file (0600).</summary>
    public void Create(string uploadId)
    {
        using var stream = new FileStream(PathOf(uploadId), new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
    }

    /// <summary>Every staging file: its upload id and when it was last written.</summary>
    public IEnumerable<(string UploadId, DateTimeOffset LastWrite)> List()
    {
        foreach (var path in Directory.EnumerateFiles(_root, "*.part"))
        {
            var id = Path.GetFileNameWithoutExtension(path);
            if (IsUploadId(id))
            {
                yield return (id, new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero));
            }
        }
    }

    /// <summary>Removes a staging file if present.</summary>
    public void Delete(string uploadId)
    {
        var path = PathOf(uploadId);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }
}
