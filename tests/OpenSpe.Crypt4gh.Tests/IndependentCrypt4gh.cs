using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Rfc7748;
using BcChaCha20Poly1305 = Org.BouncyCastle.Crypto.Modes.ChaCha20Poly1305;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>
/// A second, spec-only Crypt4GH reader written apart from the library: plain functions over byte arrays,
/// using BouncyCastle's X25519, BLAKE2b and ChaCha20-Poly1305 and a scrypt written here from RFC 7914 — none of
/// the library's code or primitives (libsodium via NSec, the BCL's ChaCha20-Poly1305). It checks that what the
/// library writes is what the specification describes.
/// </summary>
internal static class IndependentCrypt4gh
{
    private const int Segment = 65536;

    public static byte[] PublicFromSecret(byte[] secret)
    {
        var pk = new byte[32];
        X25519.ScalarMultBase(secret, 0, pk, 0);
        return pk;
    }

    /// <summary>Decrypts a whole file for the reader whose raw X25519 secret is given, edit list applied.</summary>
    public static byte[] Decrypt(byte[] file, byte[] readerSecret)
    {
        var readerPublic = PublicFromSecret(readerSecret);
        if (!file.AsSpan(0, 8).SequenceEqual("crypt4gh"u8) || BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8)) != 1)
        {
            throw new InvalidDataException("not crypt4gh v1");
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(12));
        var position = 16;
        var keys = new List<byte[]>();
        List<ulong>? edits = null;
        for (var p = 0; p < count; p++)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(position));
            var packet = file.AsSpan(position, length).ToArray();
            position += length;
            if (BinaryPrimitives.ReadUInt32LittleEndian(packet.AsSpan(4)) != 0)
            {
                continue;
            }

            var writerPublic = packet[8..40];
            var nonce = packet[40..52];
            var sealedPayload = packet[52..];
            var dh = new byte[32];
            if (!X25519.CalculateAgreement(readerSecret, 0, writerPublic, 0, dh, 0))
            {
                continue;
            }

            var blake = new Blake2bDigest(512);
            blake.BlockUpdate(dh, 0, 32);
            blake.BlockUpdate(readerPublic, 0, 32);
            blake.BlockUpdate(writerPublic, 0, 32);
            var digest = new byte[64];
            blake.DoFinal(digest, 0);
            var payload = Open(digest[..32], nonce, sealedPayload);
            if (payload is null)
            {
                continue;
            }

            var type = BinaryPrimitives.ReadUInt32LittleEndian(payload);
            if (type == 0)
            {
                if (BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(4)) != 0)
                {
                    throw new InvalidDataException("data method");
                }

                keys.Add(payload[8..40]);
            }
            else if (type == 1)
            {
                if (edits is not null)
                {
                    throw new InvalidDataException("two edit lists");
                }

                var n = BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(4));
                edits = [];
                for (var i = 0; i < n; i++)
                {
                    edits.Add(BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(8 + (8 * i))));
                }
            }
        }

        if (keys.Count == 0)
        {
            throw new InvalidDataException("no key");
        }

        var plain = new MemoryStream();
        while (position < file.Length)
        {
            var length = Math.Min(Segment + 28, file.Length - position);
            var segment = file.AsSpan(position, length).ToArray();
            position += length;
            var decrypted = keys.Select(k => Open(k, segment[..12], segment[12..])).FirstOrDefault(d => d is not null)
                ?? throw new InvalidDataException("segment does not authenticate");
            plain.Write(decrypted);
        }

        return ApplyEditList(edits, plain.ToArray());
    }

    /// <summary>ApplyEditList exactly as the specification's pseudo-code states it.</summary>
    public static byte[] ApplyEditList(IEnumerable<ulong>? editList, byte[] input)
    {
        var edlist = new Queue<ulong>(editList ?? []);
        if (edlist.Count == 0)
        {
            return input;
        }

        var output = new MemoryStream();
        ulong pos = 0;
        var len = (ulong)input.Length;
        do
        {
            var discard = edlist.Dequeue();
            pos += discard;
            if (edlist.Count == 0)
            {
                output.Write(Substr(input, pos, len > pos ? len - pos : 0));
            }
            else
            {
                var keep = edlist.Dequeue();
                output.Write(Substr(input, pos, keep));
                pos += keep;
            }
        }
        while (edlist.Count > 0);
        return output.ToArray();
    }

    /// <summary>Reads a <c>c4gh-v1</c> private key file (kdf none, scrypt or pbkdf2_hmac_sha256) to its raw secret.</summary>
    public static byte[] LoadSecret(string pem, string? passphrase)
    {
        var lines = pem.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        var blob = Convert.FromBase64String(string.Concat(lines[1..^1]));
        if (!blob.AsSpan(0, 7).SequenceEqual("c4gh-v1"u8))
        {
            throw new InvalidDataException("magic");
        }

        var position = 7;
        string NextString() => Encoding.ASCII.GetString(Next());
        byte[] Next()
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(blob.AsSpan(position));
            var value = blob.AsSpan(position + 2, length).ToArray();
            position += 2 + length;
            return value;
        }

        var kdf = NextString();
        var options = kdf == "none" ? [] : Next();
        var cipher = NextString();
        var data = Next();
        if (cipher == "none")
        {
            return data;
        }

        var rounds = (int)BinaryPrimitives.ReadUInt32BigEndian(options);
        var salt = options[4..];
        var pass = Encoding.UTF8.GetBytes(passphrase!);
        var key = kdf switch
        {
            "scrypt" => Scrypt(pass, salt, 1 << 14, 8, 1, 32),
            "pbkdf2_hmac_sha256" => Rfc2898DeriveBytes.Pbkdf2(pass, salt, rounds, HashAlgorithmName.SHA256, 32),
            _ => throw new NotSupportedException(kdf),
        };
        return Open(key, data[..12], data[12..]) ?? throw new InvalidDataException("wrong passphrase");
    }

    /// <summary>scrypt as RFC 7914 defines it (PBKDF2-HMAC-SHA256, BlockMix of Salsa20/8, ROMix).</summary>
    public static byte[] Scrypt(byte[] password, byte[] salt, int n, int r, int p, int length)
    {
        var blockWords = 32 * r;
        var b = Rfc2898DeriveBytes.Pbkdf2(password, salt, 1, HashAlgorithmName.SHA256, p * 128 * r);
        var x = new uint[blockWords];
        var v = new uint[n * blockWords];
        var scratch = new uint[blockWords];
        for (var i = 0; i < p; i++)
        {
            var chunk = b.AsSpan(i * 128 * r, 128 * r);
            for (var w = 0; w < blockWords; w++)
            {
                x[w] = BinaryPrimitives.ReadUInt32LittleEndian(chunk[(4 * w)..]);
            }

            for (var j = 0; j < n; j++)
            {
                x.CopyTo(v, j * blockWords);
                BlockMix(x, scratch, r);
            }

            for (var j = 0; j < n; j++)
            {
                var k = (int)(x[(2 * r - 1) * 16] & (uint)(n - 1));
                for (var w = 0; w < blockWords; w++)
                {
                    x[w] ^= v[(k * blockWords) + w];
                }

                BlockMix(x, scratch, r);
            }

            for (var w = 0; w < blockWords; w++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(chunk[(4 * w)..], x[w]);
            }
        }

        return Rfc2898DeriveBytes.Pbkdf2(password, b, 1, HashAlgorithmName.SHA256, length);
    }

    private static void BlockMix(uint[] b, uint[] y, int r)
    {
        Span<uint> x = stackalloc uint[16];
        b.AsSpan((2 * r - 1) * 16, 16).CopyTo(x);
        for (var i = 0; i < 2 * r; i++)
        {
            for (var w = 0; w < 16; w++)
            {
                x[w] ^= b[(i * 16) + w];
            }

            Salsa208(x);
            var target = (i % 2 == 0 ? i / 2 : r + (i / 2)) * 16; // even blocks first, then odd ones
            x.CopyTo(y.AsSpan(target, 16));
        }

        y.CopyTo(b, 0);
    }

    private static void Salsa208(Span<uint> block)
    {
        Span<uint> x = stackalloc uint[16];
        block.CopyTo(x);
        static uint R(uint a, int c) => (a << c) | (a >> (32 - c));
        for (var i = 0; i < 8; i += 2)
        {
            x[4] ^= R(x[0] + x[12], 7); x[8] ^= R(x[4] + x[0], 9);
            x[12] ^= R(x[8] + x[4], 13); x[0] ^= R(x[12] + x[8], 18);
            x[9] ^= R(x[5] + x[1], 7); x[13] ^= R(x[9] + x[5], 9);
            x[1] ^= R(x[13] + x[9], 13); x[5] ^= R(x[1] + x[13], 18);
            x[14] ^= R(x[10] + x[6], 7); x[2] ^= R(x[14] + x[10], 9);
            x[6] ^= R(x[2] + x[14], 13); x[10] ^= R(x[6] + x[2], 18);
            x[3] ^= R(x[15] + x[11], 7); x[7] ^= R(x[3] + x[15], 9);
            x[11] ^= R(x[7] + x[3], 13); x[15] ^= R(x[11] + x[7], 18);
            x[1] ^= R(x[0] + x[3], 7); x[2] ^= R(x[1] + x[0], 9);
            x[3] ^= R(x[2] + x[1], 13); x[0] ^= R(x[3] + x[2], 18);
            x[6] ^= R(x[5] + x[4], 7); x[7] ^= R(x[6] + x[5], 9);
            x[4] ^= R(x[7] + x[6], 13); x[5] ^= R(x[4] + x[7], 18);
            x[11] ^= R(x[10] + x[9], 7); x[8] ^= R(x[11] + x[10], 9);
            x[9] ^= R(x[8] + x[11], 13); x[10] ^= R(x[9] + x[8], 18);
            x[12] ^= R(x[15] + x[14], 7); x[13] ^= R(x[12] + x[15], 9);
            x[14] ^= R(x[13] + x[12], 13); x[15] ^= R(x[14] + x[13], 18);
        }

        for (var i = 0; i < 16; i++)
        {
            block[i] += x[i];
        }
    }

    private static byte[] Substr(byte[] input, ulong pos, ulong length)
    {
        if (pos >= (ulong)input.Length)
        {
            return [];
        }

        var take = Math.Min(length, (ulong)input.Length - pos);
        return input.AsSpan((int)pos, (int)take).ToArray();
    }

    /// <summary>ChaCha20-IETF-Poly1305 open with BouncyCastle; null when the MAC does not verify.</summary>
    private static byte[]? Open(byte[] key, byte[] nonce, byte[] sealedData)
    {
        var aead = new BcChaCha20Poly1305();
        aead.Init(false, new AeadParameters(new KeyParameter(key), 128, nonce));
        var output = new byte[aead.GetOutputSize(sealedData.Length)];
        try
        {
            var n = aead.ProcessBytes(sealedData, 0, sealedData.Length, output, 0);
            aead.DoFinal(output, n);
            return output;
        }
        catch (InvalidCipherTextException)
        {
            return null;
        }
    }
}
