namespace OpenSpe.Server.Workspaces;

/// <summary>Reads a job's log from where it last stopped, forwarding only whole lines (a line being written is left for the next read).</summary>
internal sealed class JobLogReader(JobLogStore logs, string projectId, string jobId) : IDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private FileStream? _file;
    private int _pending;

    /// <summary>Copies the whole lines written since the last call to <paramref name="target"/>.</summary>
    public async Task CopyAsync(Stream target, CancellationToken cancellationToken)
    {
        _file ??= logs.OpenRead(projectId, jobId);
        if (_file is null)
        {
            return;
        }

        int read;
        while ((read = await _file.ReadAsync(_buffer.AsMemory(_pending), cancellationToken)) > 0)
        {
            var filled = _pending + read;
            var end = Array.LastIndexOf(_buffer, (byte)'\n', filled - 1, filled) + 1;
            if (end == 0 && filled == _buffer.Length)
            {
                // Note: lines are at most one read of output (4 KiB of text, escaped) — a line longer than the buffer cannot be written.
                throw new InvalidDataException("job log line longer than the reader's buffer");
            }

            await target.WriteAsync(_buffer.AsMemory(0, end), cancellationToken);
            _pending = filled - end;
            Buffer.BlockCopy(_buffer, end, _buffer, 0, _pending);
        }
    }

    public void Dispose() => _file?.Dispose();
}
