using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OpenSpe.Crypt4gh;

/// <summary>Authenticates and decrypts data segments (nonce, ciphertext, MAC) with the header's data keys.</summary>
internal sealed class SegmentDecryptor : IDisposable
{
    private readonly ChaCha20Poly1305[] _aeads;
    private int _lastKey;

    public SegmentDecryptor(ReadOnlySpan<byte[]> keys)
    {
        _aeads = new ChaCha20Poly1305[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            _aeads[i] = new ChaCha20Poly1305(keys[i]);
        }
    }

    /// <summary>
    /// Decrypts one segment into <paramref name="plaintext"/> (cipher length minus 28 bytes). Each key is tried,
    /// the last successful one first; false (and zeroed output) when none authenticates the segment.
    /// </summary>
    public bool TryDecrypt(ReadOnlySpan<byte> segment, Span<byte> plaintext)
    {
        var nonce = segment[..Format.NonceSize];
        var ciphertext = segment[Format.NonceSize..^Format.MacSize];
        var tag = segment[^Format.MacSize..];
        for (var attempt = 0; attempt < _aeads.Length; attempt++)
        {
            var index = (_lastKey + attempt) % _aeads.Length;
            try
            {
                _aeads[index].Decrypt(nonce, ciphertext, tag, plaintext);
                _lastKey = index;
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                // try the next key; the output was zeroed
            }
        }

        return false;
    }

    public void Dispose()
    {
        foreach (var aead in _aeads)
        {
            aead.Dispose();
        }
    }
}

/// <summary>Encrypts data segments: a random 96-bit starting nonce, incremented for every segment.</summary>
internal sealed class SegmentEncryptor : IDisposable
{
    private readonly ChaCha20Poly1305[] _aeads;
    private readonly byte[] _nonceStart = RandomNumberGenerator.GetBytes(Format.NonceSize);
    private ulong _counter;

    public SegmentEncryptor(ReadOnlySpan<byte[]> keys)
    {
        _aeads = new ChaCha20Poly1305[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            _aeads[i] = new ChaCha20Poly1305(keys[i]);
        }
    }

    public int KeyCount => _aeads.Length;

    /// <summary>Writes nonce, ciphertext and MAC of <paramref name="plaintext"/> to <paramref name="output"/>; returns the bytes written.</summary>
    public int Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> output, int keyIndex)
    {
        var nonce = output[..Format.NonceSize];
        _nonceStart.CopyTo(nonce);

        // Nonce = start + counter (mod 2^64 on the low 8 bytes): unique for every segment of the file whatever the key.
        var low = BinaryPrimitives.ReadUInt64LittleEndian(nonce);
        BinaryPrimitives.WriteUInt64LittleEndian(nonce, unchecked(low + _counter));
        _counter++;
        _aeads[keyIndex].Encrypt(
            nonce,
            plaintext,
            output.Slice(Format.NonceSize, plaintext.Length),
            output.Slice(Format.NonceSize + plaintext.Length, Format.MacSize));
        return plaintext.Length + Format.CipherOverhead;
    }

    public void Dispose()
    {
        foreach (var aead in _aeads)
        {
            aead.Dispose();
        }
    }
}

/// <summary>
/// A data edit list as intervals of the unedited plaintext to keep, each with its start in the edited output.
/// No edit list (or an empty one) keeps everything.
/// </summary>
internal sealed class KeptRanges
{
    private readonly long[] _rawStart;
    private readonly long[] _length; // long.MaxValue: to the end of the data
    private readonly long[] _outputStart;

    public KeptRanges(long[]? editList)
    {
        var starts = new List<long>();
        var lengths = new List<long>();
        if (editList is null || editList.Length == 0)
        {
            starts.Add(0);
            lengths.Add(long.MaxValue);
        }
        else
        {
            long position = 0;
            for (var i = 0; i < editList.Length; i += 2)
            {
                position = SaturatingAdd(position, editList[i]); // skip
                if (i + 1 == editList.Length)
                {
                    starts.Add(position); // a final skip: keep the rest
                    lengths.Add(long.MaxValue);
                    break;
                }

                var keep = editList[i + 1];
                starts.Add(position);
                lengths.Add(keep);
                position = SaturatingAdd(position, keep);
            }
        }

        _rawStart = [.. starts];
        _length = [.. lengths];
        _outputStart = new long[_rawStart.Length];
        long output = 0;
        for (var i = 0; i < _rawStart.Length; i++)
        {
            _outputStart[i] = output;
            output = SaturatingAdd(output, _length[i]);
        }
    }

    /// <summary>Maps a position of the edited output to the unedited plaintext and the bytes left in its interval.</summary>
    public bool TryMap(long outputPosition, out long rawPosition, out long available)
    {
        // the last interval starting at or before the position (zero-length intervals share starts with their successor)
        var index = Array.BinarySearch(_outputStart, outputPosition);
        if (index < 0)
        {
            index = ~index - 1;
        }
        else
        {
            while (index + 1 < _outputStart.Length && _outputStart[index + 1] == outputPosition)
            {
                index++;
            }
        }

        if (index >= 0)
        {
            var offset = outputPosition - _outputStart[index];
            if (offset < _length[index])
            {
                rawPosition = SaturatingAdd(_rawStart[index], offset);
                available = _length[index] - offset;
                return true;
            }
        }

        rawPosition = 0;
        available = 0;
        return false;
    }

    /// <summary>The length of the edited output for an unedited plaintext of <paramref name="rawLength"/> bytes.</summary>
    public long OutputLength(long rawLength)
    {
        long total = 0;
        for (var i = 0; i < _rawStart.Length; i++)
        {
            if (_rawStart[i] >= rawLength)
            {
                break;
            }

            total += Math.Min(_length[i], rawLength - _rawStart[i]);
        }

        return total;
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
