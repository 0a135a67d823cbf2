using System.Security.Cryptography;

namespace OpenSpe.Crypt4gh;

/// <summary>Settings for writing a Crypt4GH file.</summary>
public sealed class Crypt4ghEncryptionOptions
{
    /// <summary>The writer's private key; null (the default) for a fresh ephemeral key per file, so that the sender is anonymous.</summary>
    public Crypt4ghPrivateKey? WriterKey { get; init; }

    /// <summary>A data edit list to store in the header (byte counts to skip and keep, skip first); null for none.</summary>
    public IReadOnlyList<long>? EditList { get; init; }

    /// <summary>How many random data keys to create (default 1); ignored when a header is given.</summary>
    public int DataKeyCount { get; init; } = 1;

    /// <summary>Picks the data key (an index into the header's keys) of each segment, by segment index; by default the keys take turns.</summary>
    public Func<long, int>? DataKeySelector { get; init; }

    /// <summary>Leave the output stream open when the encrypting stream is disposed.</summary>
    public bool LeaveOpen { get; init; }
}

/// <summary>
/// A write-only stream that encrypts what is written to it into a Crypt4GH file: the header (written before the
/// first segment), then 64 KiB segments, each with its own nonce and MAC. Dispose it (or call
/// <see cref="Complete"/>) to write the last, partial segment.
/// </summary>
public sealed class Crypt4ghEncryptingStream : Stream
{
    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly SegmentEncryptor _encryptor;
    private readonly Func<long, int>? _keySelector;
    private readonly byte[] _plain = new byte[Format.SegmentSize];
    private readonly byte[] _cipher = new byte[Format.CipherSegmentSize];
    private byte[]? _pendingHeader;
    private int _buffered;
    private long _segment;
    private long _length;
    private bool _completed;
    private bool _disposed;

    /// <summary>Encrypts for the given readers, with fresh data keys.</summary>
    /// <param name="output">Where the Crypt4GH file is written.</param>
    /// <param name="recipients">The readers' public keys (at least one).</param>
    /// <param name="options">Writer key, edit list, data keys; null for the defaults.</param>
    public Crypt4ghEncryptingStream(Stream output, IEnumerable<Crypt4ghPublicKey> recipients, Crypt4ghEncryptionOptions? options = null)
        : this(output, Crypt4ghHeader.Create(options?.DataKeyCount ?? 1, options?.EditList), recipients, options)
    {
    }

    /// <summary>Encrypts for the given readers with the data keys and edit list of <paramref name="header"/>.</summary>
    /// <param name="output">Where the Crypt4GH file is written.</param>
    /// <param name="header">The data keys and edit list to use.</param>
    /// <param name="recipients">The readers' public keys (at least one).</param>
    /// <param name="options">Writer key, key selector, leave-open; its edit list and key count are ignored.</param>
    public Crypt4ghEncryptingStream(Stream output, Crypt4ghHeader header, IEnumerable<Crypt4ghPublicKey> recipients, Crypt4ghEncryptionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(header);
        if (!output.CanWrite)
        {
            throw new ArgumentException("The output stream cannot be written.", nameof(output));
        }

        _output = output;
        _leaveOpen = options?.LeaveOpen ?? false;
        _keySelector = options?.DataKeySelector;
        Header = header;
        _pendingHeader = header.Encrypt(recipients, options?.WriterKey);
        _encryptor = new SegmentEncryptor(header.DataKeyArrays);
    }

    /// <summary>The header (data keys and edit list) being written.</summary>
    public Crypt4ghHeader Header { get; }

    /// <inheritdoc/>
    public override bool CanRead => false;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => !_disposed && !_completed;

    /// <summary>The number of plaintext bytes written so far.</summary>
    public override long Length => _length;

    /// <summary>The number of plaintext bytes written so far; cannot be set.</summary>
    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException("A Crypt4GH encrypting stream cannot seek.");
    }

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        EnsureWritable();
        WritePendingHeader();
        while (!buffer.IsEmpty)
        {
            if (_buffered == 0 && buffer.Length >= Format.SegmentSize)
            {
                // A whole segment at hand: encrypt it from the caller's buffer.
                var written = EncryptSegment(buffer[..Format.SegmentSize]);
                _length += Format.SegmentSize;
                _output.Write(_cipher, 0, written);
                buffer = buffer[Format.SegmentSize..];
                continue;
            }

            buffer = Buffer(buffer);
            if (_buffered == Format.SegmentSize)
            {
                var written = EncryptSegment(_plain);
                _buffered = 0;
                _output.Write(_cipher, 0, written);
            }
        }
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnsureWritable();
        await WritePendingHeaderAsync(cancellationToken).ConfigureAwait(false);
        while (!buffer.IsEmpty)
        {
            if (_buffered == 0 && buffer.Length >= Format.SegmentSize)
            {
                var written = EncryptSegment(buffer.Span[..Format.SegmentSize]);
                _length += Format.SegmentSize;
                await _output.WriteAsync(_cipher.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
                buffer = buffer[Format.SegmentSize..];
                continue;
            }

            var rest = Buffer(buffer.Span);
            buffer = buffer[(buffer.Length - rest.Length)..];
            if (_buffered == Format.SegmentSize)
            {
                var written = EncryptSegment(_plain);
                _buffered = 0;
                await _output.WriteAsync(_cipher.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Flushes the output stream; a partial segment stays buffered until <see cref="Complete"/>.</summary>
    public override void Flush()
    {
        if (!_disposed)
        {
            WritePendingHeader();
            _output.Flush();
        }
    }

    /// <inheritdoc/>
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (!_disposed)
        {
            await WritePendingHeaderAsync(cancellationToken).ConfigureAwait(false);
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the header (if nothing was written) and the last, partial segment, then flushes. Later writes fail.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            return;
        }

        WritePendingHeader();
        if (_buffered > 0)
        {
            var written = EncryptSegment(_plain.AsSpan(0, _buffered));
            _buffered = 0;
            _output.Write(_cipher, 0, written);
        }

        _completed = true;
        _output.Flush();
    }

    /// <summary>Asynchronously writes the header (if nothing was written) and the last, partial segment, then flushes.</summary>
    /// <param name="cancellationToken">Cancels the write.</param>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            return;
        }

        await WritePendingHeaderAsync(cancellationToken).ConfigureAwait(false);
        if (_buffered > 0)
        {
            var written = EncryptSegment(_plain.AsSpan(0, _buffered));
            _buffered = 0;
            await _output.WriteAsync(_cipher.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
        }

        _completed = true;
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("A Crypt4GH encrypting stream is write-only.");

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A Crypt4GH encrypting stream cannot seek.");

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException("A Crypt4GH encrypting stream cannot seek.");

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            try
            {
                Complete();
            }
            finally
            {
                Release();
                if (!_leaveOpen)
                {
                    _output.Dispose();
                }
            }
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            try
            {
                await CompleteAsync().ConfigureAwait(false);
            }
            finally
            {
                Release();
                if (!_leaveOpen)
                {
                    await _output.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void Release()
    {
        _disposed = true;
        _encryptor.Dispose();
        CryptographicOperations.ZeroMemory(_plain);
    }

    private void EnsureWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            throw new InvalidOperationException("The Crypt4GH stream was completed; nothing more can be written.");
        }
    }

    private ReadOnlySpan<byte> Buffer(ReadOnlySpan<byte> buffer)
    {
        var n = Math.Min(Format.SegmentSize - _buffered, buffer.Length);
        buffer[..n].CopyTo(_plain.AsSpan(_buffered));
        _buffered += n;
        _length += n;
        return buffer[n..];
    }

    private int EncryptSegment(ReadOnlySpan<byte> plaintext)
    {
        var key = _keySelector is null
            ? (int)(_segment % _encryptor.KeyCount)
            : _keySelector(_segment);
        if ((uint)key >= (uint)_encryptor.KeyCount)
        {
            throw new InvalidOperationException($"The data key selector chose key {key} for segment {_segment}; the header has {_encryptor.KeyCount}.");
        }

        var written = _encryptor.Encrypt(plaintext, _cipher, key);
        _segment++;
        return written;
    }

    private void WritePendingHeader()
    {
        if (_pendingHeader is { } header)
        {
            _pendingHeader = null;
            _output.Write(header);
        }
    }

    private async ValueTask WritePendingHeaderAsync(CancellationToken cancellationToken)
    {
        if (_pendingHeader is { } header)
        {
            _pendingHeader = null;
            await _output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        }
    }
}
