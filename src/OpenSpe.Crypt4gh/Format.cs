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

    /// <summary>
    /// The most header packets accepted when reading or written (two per reader in practice). Note: every packet is held
    /// in memory and each X25519 one costs a key agreement, so a header of millions of packets was a way to exhaust both.
    /// </summary>
    public const int MaxHeaderPackets = 4096;

    /// <summary>The most bytes a header may occupy (a few of the largest packets): the header is read whole into memory.</summary>
    public const long MaxHeaderBytes = 64L << 20;

    /// <summary>
    /// The most data keys one reader's packets may give. Note: a segment is tried with each key in turn, so a header of
    /// thousands of keys made every segment cost thousands of decryptions (a 13 MB file took 20 s instead of 0.2 s).
    /// </summary>
    public const int MaxDataKeys = 16;

    public static ReadOnlySpan<byte> Magic => "crypt4gh"u8;
}
