namespace OpenSpe.Server.Transfers;

/// <summary>Space of a file system, in bytes.</summary>
/// <param name="Available">Bytes an unprivileged writer can still use.</param>
/// <param name="Total">Size of the file system.</param>
internal readonly record struct DiskSpace(long Available, long Total);

/// <summary>Measures the file system that holds a path; a seam so tests can pretend the disk is nearly full.</summary>
internal interface IFreeSpaceProbe
{
    /// <summary>The space of the file system holding <paramref name="path"/> (an existing directory).</summary>
    DiskSpace Measure(string path);
}

/// <summary>The real probe: <see cref="DriveInfo"/>, which is <c>statvfs</c> on Linux (any path of the file system will do).</summary>
internal sealed class DriveFreeSpaceProbe : IFreeSpaceProbe
{
    /// <inheritdoc />
    public DiskSpace Measure(string path)
    {
        var drive = new DriveInfo(path);
        return new DiskSpace(drive.AvailableFreeSpace, drive.TotalSize);
    }
}
