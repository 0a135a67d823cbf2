namespace OpenSpe.Server.Transfers;

/// <summary>
/// One lock per upload id, so that two requests never change the same upload at once (PATCH, DELETE, a final upload,
/// the expiry sweep). An id's lock exists only while someone holds or awaits it, so ids taken from requests (which may
/// name uploads that never existed) leave nothing behind.
/// </summary>
internal static class UploadLocks
{
    private static readonly Dictionary<string, Entry> Entries = new(StringComparer.Ordinal);

    /// <summary>Waits for the lock of <paramref name="uploadId"/>; disposing the result releases it.</summary>
    public static async Task<IDisposable> AcquireAsync(string uploadId, CancellationToken cancellationToken)
    {
        var entry = Enter(uploadId);
        try
        {
            await entry.Gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(uploadId, entry, held: false);
            throw;
        }

        return new Held(uploadId, entry);
    }

    /// <summary>The lock of <paramref name="uploadId"/> if it is free now, else null.</summary>
    public static IDisposable? TryAcquire(string uploadId)
    {
        var entry = Enter(uploadId);
        if (entry.Gate.Wait(0))
        {
            return new Held(uploadId, entry);
        }

        Leave(uploadId, entry, held: false);
        return null;
    }

    private static Entry Enter(string uploadId)
    {
        lock (Entries)
        {
            if (!Entries.TryGetValue(uploadId, out var entry))
            {
                Entries[uploadId] = entry = new Entry();
            }

            entry.Users++;
            return entry;
        }
    }

    private static void Leave(string uploadId, Entry entry, bool held)
    {
        lock (Entries)
        {
            if (held)
            {
                entry.Gate.Release();
            }

            if (--entry.Users == 0)
            {
                Entries.Remove(uploadId);
                entry.Gate.Dispose();
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int Users { get; set; }
    }

    private sealed class Held(string uploadId, Entry entry) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Leave(uploadId, entry, held: true);
            }
        }
    }
}
