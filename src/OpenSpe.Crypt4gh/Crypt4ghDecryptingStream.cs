using System.Security.Cryptography;

namespace OpenSpe.Crypt4gh;

/// <summary>
/// A read-only stream of the plaintext of a Crypt4GH file, with the data edit list applied.
/// It holds one 64 KiB segment at a time and releases a segment's bytes only after its MAC has verified.
/// When the underlying stream can seek, so can this one: a seek costs nothing and only the segments that
/// are then read are decrypted. A read call decrypts at most one new segment, so when it throws, no byte of
/// that call was handed over. Not thread-safe.
/// </summary>
public sealed class Crypt4ghDecryptingStream : Stream
{
    private readonly Stream _input;
    private readonly bool _leaveOpen;
    private readonly SegmentDecryptor _decryptor;
    private readonly KeptRanges _ranges;
    private readonly byte[] _cipher = new byte[Format.CipherSegmentSize];
    private readonly byte[] _plain = new byte[Format.SegmentSize];
    private readonly long _dataStart;
    private readonly long _length = -1; // edited plaintext length, when the input can seek
    private long _position;
    private long _loadedSegment = -1;
    private int _loadedLength;

    // The last segment when it was decrypted straight into a caller's buffer: reading past its end is the end of the data,
    // not a reason to fetch it again (which a forward-only input cannot do).
    private long _finalSegment = -1;
    private int _finalLength;
    private long _nextInputSegment; // where a non-seekable input stands
    private long _endSegment = long.MaxValue; // first segment index known not to exist
    private bool _disposed;

    /// <summary>Reads and decrypts the header at the current position of <paramref name="input"/>, then streams the plaintext.</summary>
    /// <param name="input">The Crypt4GH stream.</param>
    /// <param name="readerKey">The reader's private key.</param>
    /// <param name="expectedWriter">If set, header packets from any other writer are ignored.</param>
    /// <param name="leaveOpen">Leave <paramref name="input"/> open when this stream is disposed.</param>
    /// <exception cref="Crypt4ghException">The header cannot be read or holds nothing for this key.</exception>
    public Crypt4ghDecryptingStream(Stream input, Crypt4ghPrivateKey readerKey, Crypt4ghPublicKey? expectedWriter = null, bool leaveOpen = false)
        : this(input, ReadHeader(input, readerKey, expectedWriter, leaveOpen), leaveOpen)
    {
    }

    /// <summary>Streams the plaintext of the data segments that start at the current position of <paramref name="input"/>, using an already decrypted header.</summary>
    /// <param name="input">The stream, positioned just after the header.</param>
    /// <param name="header">The decrypted header of this file.</param>
    /// <param name="leaveOpen">Leave <paramref name="input"/> open when this stream is disposed.</param>
    public Crypt4ghDecryptingStream(Stream input, Crypt4ghHeader header, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(header);
        if (!input.CanRead)
        {
            throw new ArgumentException("The input stream cannot be read.", nameof(input));
        }

        _input = input;
        _leaveOpen = leaveOpen;
        Header = header;
        _ranges = new KeptRanges(header.EditListArray);
        if (input.CanSeek)
        {
            _dataStart = input.Position;
            var cipherLength = Math.Max(0, input.Length - _dataStart);
            var fullSegments = cipherLength / Format.CipherSegmentSize;
            var rest = cipherLength % Format.CipherSegmentSize;
            if (rest is > 0 and <= Format.CipherOverhead)
            {
                // Found before any byte is released; the input is not left open behind a failed constructor.
                if (!leaveOpen)
                {
                    input.Dispose();
                }

                throw TruncatedSegment(fullSegments, rest);
            }

            var segmentCount = fullSegments + (rest > 0 ? 1 : 0);
            var rawLength = (fullSegments * Format.SegmentSize) + (rest > 0 ? rest - Format.CipherOverhead : 0);
            _length = _ranges.OutputLength(rawLength);
            _endSegment = segmentCount;
        }

        _decryptor = new SegmentDecryptor(header.DataKeyArrays);
    }

    /// <summary>The decrypted header of the file.</summary>
    public Crypt4ghHeader Header { get; }

    /// <inheritdoc/>
    public override bool CanRead => !_disposed;

    /// <inheritdoc/>
    public override bool CanSeek => !_disposed && _input.CanSeek;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <summary>The length of the (edited) plaintext; needs a seekable input.</summary>
    public override long Length
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _length >= 0 ? _length : throw new NotSupportedException("The length is known only when the input stream can seek.");
        }
    }

    /// <summary>The position in the (edited) plaintext; setting it needs a seekable input.</summary>
    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    /// <summary>Opens a file asynchronously: reads and decrypts the header, then returns the plaintext stream.</summary>
    /// <param name="input">The Crypt4GH stream.</param>
    /// <param name="readerKey">The reader's private key.</param>
    /// <param name="expectedWriter">If set, header packets from any other writer are ignored.</param>
    /// <param name="leaveOpen">Leave <paramref name="input"/> open when the returned stream is disposed.</param>
    /// <param name="cancellationToken">Cancels reading the header.</param>
    public static async Task<Crypt4ghDecryptingStream> OpenAsync(Stream input, Crypt4ghPrivateKey readerKey, Crypt4ghPublicKey? expectedWriter = null, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        Crypt4ghHeader header;
        try
        {
            header = await Crypt4ghHeader.ReadAsync(input, readerKey, expectedWriter, cancellationToken).ConfigureAwait(false);
        }
        catch when (!leaveOpen)
        {
            await input.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new Crypt4ghDecryptingStream(input, header, leaveOpen);
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_input.CanSeek)
        {
            throw new NotSupportedException("The input stream cannot seek.");
        }

        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (target < 0)
        {
            throw new IOException("Cannot seek before the start of the plaintext.");
        }

        _position = target;
        return target;
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var total = 0;
        while (!buffer.IsEmpty)
        {
            if (!_ranges.TryMap(_position, out var raw, out var available))
            {
                break;
            }

            var segment = raw / Format.SegmentSize;
            var offset = (int)(raw % Format.SegmentSize);
            if (total > 0 && segment != _loadedSegment)
            {
                break; // one new segment per call: a failure never hides bytes already handed over
            }

            // A whole segment wanted in place: decrypt straight into the caller's buffer (zeroed if it fails).
            if (offset == 0 && segment != _loadedSegment && buffer.Length >= Format.SegmentSize && available >= Format.SegmentSize)
            {
                var direct = ReadCipherSegment(segment);
                if (direct <= 0)
                {
                    break;
                }

                var plainLength = DecryptInto(segment, direct, buffer);
                _position += plainLength;
                total += plainLength;
                buffer = buffer[plainLength..];
                if (plainLength < Format.SegmentSize)
                {
                    _finalSegment = segment;
                    _finalLength = plainLength;
                    break;
                }

                continue;
            }

            if (segment != _loadedSegment)
            {
                if (segment == _finalSegment && offset >= _finalLength)
                {
                    break;
                }

                var read = ReadCipherSegment(segment);
                if (read <= 0 || !Load(segment, read))
                {
                    break;
                }
            }

            var n = Take(offset, available, buffer.Length);
            if (n == 0)
            {
                break;
            }

            _plain.AsSpan(offset, n).CopyTo(buffer);
            _position += n;
            total += n;
            buffer = buffer[n..];
        }

        return total;
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var total = 0;
        while (!buffer.IsEmpty)
        {
            if (!_ranges.TryMap(_position, out var raw, out var available))
            {
                break;
            }

            var segment = raw / Format.SegmentSize;
            var offset = (int)(raw % Format.SegmentSize);
            if (total > 0 && segment != _loadedSegment)
            {
                break;
            }

            if (offset == 0 && segment != _loadedSegment && buffer.Length >= Format.SegmentSize && available >= Format.SegmentSize)
            {
                var direct = await ReadCipherSegmentAsync(segment, cancellationToken).ConfigureAwait(false);
                if (direct <= 0)
                {
                    break;
                }

                var plainLength = DecryptInto(segment, direct, buffer.Span);
                _position += plainLength;
                total += plainLength;
                buffer = buffer[plainLength..];
                if (plainLength < Format.SegmentSize)
                {
                    _finalSegment = segment;
                    _finalLength = plainLength;
                    break;
                }

                continue;
            }

            if (segment != _loadedSegment)
            {
                if (segment == _finalSegment && offset >= _finalLength)
                {
                    break;
                }

                var read = await ReadCipherSegmentAsync(segment, cancellationToken).ConfigureAwait(false);
                if (read <= 0 || !Load(segment, read))
                {
                    break;
                }
            }

            var n = Take(offset, available, buffer.Length);
            if (n == 0)
            {
                break;
            }

            _plain.AsMemory(offset, n).CopyTo(buffer);
            _position += n;
            total += n;
            buffer = buffer[n..];
        }

        return total;
    }

    /// <inheritdoc/>
    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    /// <summary>Writes the rest of the plaintext to <paramref name="destination"/>, segment by segment, without an intermediate buffer.</summary>
    /// <param name="destination">Where the plaintext goes.</param>
    /// <param name="bufferSize">Ignored: the copy works in segments of 64 KiB.</param>
    public override void CopyTo(Stream destination, int bufferSize)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (_ranges.TryMap(_position, out var raw, out var available))
        {
            var segment = raw / Format.SegmentSize;
            var offset = (int)(raw % Format.SegmentSize);
            if (segment != _loadedSegment)
            {
                if (segment == _finalSegment && offset >= _finalLength)
                {
                    break;
                }

                var read = ReadCipherSegment(segment);
                if (read <= 0 || !Load(segment, read))
                {
                    break;
                }
            }

            var n = Take(offset, available, int.MaxValue);
            if (n == 0)
            {
                break;
            }

            destination.Write(_plain, offset, n);
            _position += n;
        }
    }

    /// <summary>Asynchronously writes the rest of the plaintext to <paramref name="destination"/>, segment by segment.</summary>
    /// <param name="destination">Where the plaintext goes.</param>
    /// <param name="bufferSize">Ignored: the copy works in segments of 64 KiB.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (_ranges.TryMap(_position, out var raw, out var available))
        {
            var segment = raw / Format.SegmentSize;
            var offset = (int)(raw % Format.SegmentSize);
            if (segment != _loadedSegment)
            {
                if (segment == _finalSegment && offset >= _finalLength)
                {
                    break;
                }

                var read = await ReadCipherSegmentAsync(segment, cancellationToken).ConfigureAwait(false);
                if (read <= 0 || !Load(segment, read))
                {
                    break;
                }
            }

            var n = Take(offset, available, int.MaxValue);
            if (n == 0)
            {
                break;
            }

            await destination.WriteAsync(_plain.AsMemory(offset, n), cancellationToken).ConfigureAwait(false);
            _position += n;
        }
    }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException("A Crypt4GH decrypting stream is read-only.");

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("A Crypt4GH decrypting stream is read-only.");

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _decryptor.Dispose();
            CryptographicOperations.ZeroMemory(_plain);
            if (!_leaveOpen)
            {
                _input.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _decryptor.Dispose();
            CryptographicOperations.ZeroMemory(_plain);
            if (!_leaveOpen)
            {
                await _input.DisposeAsync().ConfigureAwait(false);
            }
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private static Crypt4ghHeader ReadHeader(Stream input, Crypt4ghPrivateKey readerKey, Crypt4ghPublicKey? expectedWriter, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            return Crypt4ghHeader.Read(input, readerKey, expectedWriter);
        }
        catch when (!leaveOpen)
        {
            input.Dispose();
            throw;
        }
    }

    private static Crypt4ghException TruncatedSegment(long segment, long length) =>
        new(Crypt4ghErrorKind.TruncatedSegment, $"Data segment {segment} is truncated: {length} bytes cannot hold a nonce, data and a MAC (at least 29).");

    private int Take(int offset, long available, int wanted)
    {
        if (offset >= _loadedLength)
        {
            return 0; // past the end of the last segment
        }

        return (int)Math.Min(Math.Min(wanted, _loadedLength - offset), available);
    }

    /// <summary>Reads the ciphertext of <paramref name="segment"/> into the cipher buffer; 0 when it does not exist.</summary>
    private int ReadCipherSegment(long segment)
    {
        if (segment >= _endSegment)
        {
            return 0;
        }

        if (_input.CanSeek)
        {
            _input.Position = _dataStart + (segment * Format.CipherSegmentSize);
        }
        else
        {
            // Forward only: skip (without decrypting, and so without releasing anything) the segments in between.
            if (segment < _nextInputSegment)
            {
                throw new NotSupportedException("The input stream cannot seek backwards.");
            }

            while (_nextInputSegment < segment)
            {
                var skipped = _input.ReadAtLeast(_cipher, _cipher.Length, throwOnEndOfStream: false);
                if (!Skipped(skipped))
                {
                    return 0;
                }
            }
        }

        var read = _input.ReadAtLeast(_cipher, _cipher.Length, throwOnEndOfStream: false);
        return Arrived(segment, read);
    }

    private async ValueTask<int> ReadCipherSegmentAsync(long segment, CancellationToken cancellationToken)
    {
        if (segment >= _endSegment)
        {
            return 0;
        }

        if (_input.CanSeek)
        {
            _input.Position = _dataStart + (segment * Format.CipherSegmentSize);
        }
        else
        {
            if (segment < _nextInputSegment)
            {
                throw new NotSupportedException("The input stream cannot seek backwards.");
            }

            while (_nextInputSegment < segment)
            {
                var skipped = await _input.ReadAtLeastAsync(_cipher, _cipher.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (!Skipped(skipped))
                {
                    return 0;
                }
            }
        }

        var read = await _input.ReadAtLeastAsync(_cipher, _cipher.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return Arrived(segment, read);
    }

    private bool Skipped(int read)
    {
        if (read < _cipher.Length)
        {
            _endSegment = read == 0 ? _nextInputSegment : _nextInputSegment + 1;
            _nextInputSegment = _endSegment;
            return false;
        }

        _nextInputSegment++;
        return true;
    }

    private int Arrived(long segment, int read)
    {
        _nextInputSegment = segment + 1;
        if (read == 0)
        {
            _endSegment = segment;
            return 0;
        }

        if (read <= Format.CipherOverhead)
        {
            throw TruncatedSegment(segment, read);
        }

        if (read < _cipher.Length)
        {
            _endSegment = segment + 1;
        }

        return read;
    }

    /// <summary>Authenticates and decrypts the cipher buffer into the segment buffer.</summary>
    private bool Load(long segment, int read)
    {
        _loadedSegment = -1;
        _loadedLength = DecryptInto(segment, read, _plain);
        _loadedSegment = segment;
        return true;
    }

    private int DecryptInto(long segment, int read, Span<byte> destination)
    {
        var plainLength = read - Format.CipherOverhead;
        if (!_decryptor.TryDecrypt(_cipher.AsSpan(0, read), destination[..plainLength]))
        {
            throw new Crypt4ghException(
                Crypt4ghErrorKind.AuthenticationFailed,
                $"Data segment {segment} does not authenticate with any of the {Header.DataKeyArrays.Length} data key(s): it was altered, truncated or comes from another file.");
        }

        return plainLength;
    }
}
