using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Api;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Transfers;

/// <summary>Why an upload (or more of its bytes) cannot be taken: status, error code, audit reason class and message.</summary>
internal sealed record StorageRefusal(int Status, string Code, string Reason, string Detail);

/// <summary>
/// Storage limits of uploads (#11.7): a per-upload and a per-project quota, and a free-space reserve on the staging file
/// system that uploads never eat into, so the audit log and the database can always be written (when they are full, every
/// request is refused). A new upload's declared length is claimed at creation: it must fit the quotas and the free space
/// beyond the reserve and beyond what unfinished uploads still expect; every block a PATCH writes is checked again.
/// </summary>
internal sealed class UploadStorage(IFreeSpaceProbe probe, UploadStaging staging, IOptions<UploadOptions> options) : IDisposable
{
    private const int ENOSPC = 28;
    private const int EDQUOT = 122;
    private const int WindowsDiskFull = unchecked((int)0x80070070);
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);

    // Note: one admission at a time, so two creations cannot both take the last free bytes or the last of a quota.
    private readonly SemaphoreSlim _admission = new(1, 1);

    /// <summary>True when the error is the file system (or a disk quota) being full.</summary>
    public static bool IsDiskFull(IOException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.HResult is ENOSPC or EDQUOT or WindowsDiskFull or WindowsHandleDiskFull;
    }

    /// <summary>The free bytes kept back from uploads on a file system of <paramref name="total"/> bytes.</summary>
    public long ReserveFor(long total) => Math.Max(options.Value.MinFreeBytes, total / 100 * options.Value.MinFreePercent);

    /// <summary>True when <paramref name="bytes"/> more can be written without touching the reserve.</summary>
    public bool HasRoomFor(long bytes)
    {
        var space = probe.Measure(staging.Root);
        return space.Available - bytes >= ReserveFor(space.Total);
    }

    /// <summary>The refusal for writing <paramref name="bytes"/> bytes the free space cannot take.</summary>
    public static StorageRefusal NoRoom(long bytes) => new(507, ErrorCodes.InsufficientStorage, "insufficient-storage",
        $"The server does not have room for {bytes.ToString(CultureInfo.InvariantCulture)} more bytes now (free space is kept for the audit log and the database). "
        + "Bytes already acknowledged are kept: resume later, or ask the operator.");

    /// <summary>
    /// Checks a new upload of <paramref name="length"/> bytes for <paramref name="projectId"/>; when it fits, the result holds the
    /// admission until disposed: record the upload before disposing it, so the next admission counts its claim.
    /// </summary>
    public async Task<Admission> AdmitAsync(SpeDbContext database, string projectId, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        var limits = options.Value;
        if (length > limits.MaxUploadBytes)
        {
            return new Admission(null, new StorageRefusal(413, ErrorCodes.UploadTooLarge, "upload-quota",
                $"The upload's {Bytes(length)} bytes are more than the largest upload accepted, {Bytes(limits.MaxUploadBytes)} bytes."));
        }

        await _admission.WaitAsync(cancellationToken);
        try
        {
            var stored = await database.ProjectFiles.Where(f => f.ProjectId == projectId).SumAsync(f => f.Size, cancellationToken);
            var claimed = await database.Uploads.Where(u => u.ProjectId == projectId).SumAsync(u => u.Length, cancellationToken);
            if (stored + claimed + length > limits.MaxProjectBytes)
            {
                _admission.Release();
                return new Admission(null, new StorageRefusal(413, ErrorCodes.ProjectQuotaExceeded, "project-quota",
                    $"The project's quota is {Bytes(limits.MaxProjectBytes)} bytes; {Bytes(stored + claimed)} are stored or claimed by unfinished uploads, "
                    + $"so an upload of {Bytes(length)} bytes does not fit."));
            }

            // Note: the bytes unfinished uploads (of every project) still expect are spoken for, so they cannot all be promised the same free space.
            var outstanding = await database.Uploads.SumAsync(u => u.Length - u.Offset, cancellationToken);
            if (!HasRoomFor(outstanding + length))
            {
                _admission.Release();
                return new Admission(null, NoRoom(length) with
                {
                    Detail = $"The server does not have room for an upload of {Bytes(length)} bytes now (free space is kept for the audit log and the database). "
                        + "Try again later, or ask the operator.",
                });
            }

            return new Admission(_admission, null);
        }
        catch
        {
            _admission.Release();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _admission.Dispose();

    private static string Bytes(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The outcome of <see cref="AdmitAsync"/>: a refusal, or the admission held until disposed.</summary>
    internal sealed class Admission : IDisposable
    {
        private SemaphoreSlim? _held;

        internal Admission(SemaphoreSlim? held, StorageRefusal? refusal)
        {
            _held = held;
            Refusal = refusal;
        }

        /// <summary>Why the upload was refused, or null when it was admitted.</summary>
        public StorageRefusal? Refusal { get; }

        /// <inheritdoc />
        public void Dispose() => Interlocked.Exchange(ref _held, null)?.Release();
    }
}
