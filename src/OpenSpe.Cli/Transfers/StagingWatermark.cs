namespace OpenSpe.Cli.Transfers;

/// <summary>
/// How far the staged copy has been written while it is still being written, so the upload can send each byte as soon as
/// it is in the file (and no sooner). The writer advances it after each block lands, then completes or fails it; readers
/// wait for the range they need. A failure also cancels <see cref="Failed"/>, so an upload waiting on it stops at once
/// instead of retrying what would fail again.
/// </summary>
internal sealed class StagingWatermark : IDisposable
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _failed = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _written;
    private bool _complete;
    private Exception? _failure;

    /// <summary>Cancelled when the writer fails.</summary>
    public CancellationToken Failed => _failed.Token;

    /// <summary>The writer's failure, once it failed.</summary>
    public Exception? Failure
    {
        get
        {
            lock (_gate)
            {
                return _failure;
            }
        }
    }

    /// <summary>Bytes at the start of the file that are written.</summary>
    public long Written
    {
        get
        {
            lock (_gate)
            {
                return _written;
            }
        }
    }

    /// <summary>Another <paramref name="bytes"/> bytes are in the file.</summary>
    public void Advance(long bytes) => Signal(() => _written += bytes);

    /// <summary>The file is whole.</summary>
    public void Complete() => Signal(() => _complete = true);

    /// <summary>The writer gave up; readers waiting for more get <paramref name="failure"/>.</summary>
    public void Fail(Exception failure)
    {
        Signal(() => _failure ??= failure);
        _failed.Cancel();
    }

    /// <summary>Waits until the first <paramref name="end"/> bytes are written.</summary>
    public async ValueTask WaitForAsync(long end, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_written >= end)
                {
                    return;
                }

                if (_failure is not null)
                {
                    throw new Client.SpeClientException("encrypting the file failed: " + _failure.Message, _failure);
                }

                if (_complete)
                {
                    throw new Client.SpeClientException($"the encrypted copy ended at byte {_written}, before byte {end}");
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    public void Dispose() => _failed.Dispose();

    private void Signal(Action change)
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            change();
            previous = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }
}
