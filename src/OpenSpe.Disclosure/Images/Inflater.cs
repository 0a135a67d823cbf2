using System.IO.Compression;

namespace OpenSpe.Disclosure.Images;

/// <summary>Bounded zlib inflation, so a small compressed chunk cannot make the check read without end.</summary>
internal static class Inflater
{
    /// <summary>
    /// Inflates <paramref name="zlib"/> up to <paramref name="limit"/> bytes: the bytes, and whether more were left.
    /// Throws <see cref="InvalidDataException"/> for a stream that is not zlib.
    /// </summary>
    public static (byte[] Bytes, bool Truncated) Inflate(byte[] zlib, int limit)
    {
        using var source = new ZLibStream(new MemoryStream(zlib, writable: false), CompressionMode.Decompress);
        using var target = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (target.Length <= limit)
        {
            var read = source.Read(buffer);
            if (read == 0)
            {
                return (target.ToArray(), false);
            }

            target.Write(buffer, 0, read);
        }

        return (target.ToArray()[..limit], true);
    }

    /// <summary>How many bytes <paramref name="zlib"/> inflates to, counting no further than <paramref name="limit"/> + 1.</summary>
    public static long Count(Stream zlib, long limit)
    {
        using var source = new ZLibStream(zlib, CompressionMode.Decompress);
        var buffer = new byte[64 * 1024];
        long total = 0;
        while (total <= limit)
        {
            var read = source.Read(buffer);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }
}
