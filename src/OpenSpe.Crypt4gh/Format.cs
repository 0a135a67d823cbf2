namespace OpenSpe.Crypt4gh;

/// <summary>Sizes and codes of the Crypt4GH v1 format.</summary>
internal static class Format
{
    public const uint Version = 1;
    public const int PreambleSize = 16; // magic, version, packet count
    public const int SegmentSize = 65536;
    public const int NonceSize = 12;
    public const int MacSize = 16;
    public const int CipherOverhead = NonceSize + MacSize;
    public const int CipherSegmentSize = SegmentSize + CipherOverhead;
    public const int KeySize = 32;

    public const uint HeaderMethodX25519ChaCha20IetfPoly1305 = 0;
    public const uint PacketTypeDataEncryptionParameters = 0;
    public const uint PacketTypeDataEditList = 1;
    public const uint DataMethodChaCha20IetfPoly1305 = 0;
    public const uint DataMethodChaCha20IetfPoly1305WithAead = 1;

    /// <summary>length, method, writer public key, nonce, MAC: the fixed part of an X25519 header packet.</summary>
    public const int PacketOverhead = 4 + 4 + KeySize + NonceSize + MacSize;

    /// <summary>The largest header packet accepted when reading (an edit list of about two million lengths).</summary>
    public const int MaxPacketLength = 16 << 20;

    public static ReadOnlySpan<byte> Magic => "crypt4gh"u8;
}
