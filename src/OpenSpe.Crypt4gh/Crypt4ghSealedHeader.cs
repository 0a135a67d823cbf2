namespace OpenSpe.Crypt4gh;

/// <summary>A header's packets as read from a stream, still encrypted (see <see cref="Crypt4ghHeader.ReadSealedAsync"/>).</summary>
public sealed class Crypt4ghSealedHeader
{
    private readonly RawHeader _raw;

    internal Crypt4ghSealedHeader(RawHeader raw)
    {
        _raw = raw;
    }

    /// <summary>The header's length in bytes, preamble included.</summary>
    public long Length => _raw.Length;

    /// <summary>Decrypts the packets meant for <paramref name="readerKey"/>.</summary>
    /// <exception cref="Crypt4ghException">Nothing in the header is for this reader, or a packet is malformed.</exception>
    public Crypt4ghHeader Open(Crypt4ghPrivateKey readerKey)
    {
        ArgumentNullException.ThrowIfNull(readerKey);
        return Crypt4ghHeader.Open(_raw, readerKey);
    }
}
