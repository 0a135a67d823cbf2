using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace OpenSpe.Crypt4gh;

/// <summary>
/// OpenBSD's <c>bcrypt_pbkdf</c> (as used by OpenSSH and by Crypt4GH key files with kdf <c>bcrypt</c>):
/// a PBKDF2-like construction whose pseudo-random function is a Blowfish-based hash of SHA-512 digests.
/// </summary>
internal static class BcryptPbkdf
{
    private const int HashSize = 32; // bytes produced by one bcrypt_hash
    private const int MaxKeyLength = 1024;

    // "OxychromaticBlowfishSwatDynamite", the plaintext of bcrypt_hash.
    private static ReadOnlySpan<byte> Magic => "OxychromaticBlowfishSwatDynamite"u8;

    /// <summary>Derives <paramref name="output"/>.Length bytes from a passphrase and salt.</summary>
    public static void Derive(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, uint rounds, Span<byte> output)
    {
        if (rounds < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(rounds), "bcrypt_pbkdf needs at least one round.");
        }

        if (output.IsEmpty || output.Length > MaxKeyLength)
        {
            throw new ArgumentOutOfRangeException(nameof(output), $"bcrypt_pbkdf derives 1 to {MaxKeyLength} bytes.");
        }

        if (salt.IsEmpty || salt.Length > (1 << 20))
        {
            throw new ArgumentOutOfRangeException(nameof(salt), "bcrypt_pbkdf needs a non-empty salt.");
        }

        var keyLength = output.Length;
        var stride = (keyLength + HashSize - 1) / HashSize;
        var amount = (keyLength + stride - 1) / stride;

        Span<byte> passDigest = stackalloc byte[64];
        Span<byte> saltDigest = stackalloc byte[64];
        Span<byte> block = stackalloc byte[HashSize];
        Span<byte> accumulated = stackalloc byte[HashSize];
        var countSalt = new byte[salt.Length + 4];
        salt.CopyTo(countSalt);
        var state = new Blowfish();

        try
        {
            SHA512.HashData(password, passDigest);
            var remaining = keyLength;
            for (uint count = 1; remaining > 0; count++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(countSalt.AsSpan(salt.Length), count);
                SHA512.HashData(countSalt, saltDigest);
                BcryptHash(state, passDigest, saltDigest, block);
                block.CopyTo(accumulated);

                for (uint round = 1; round < rounds; round++)
                {
                    SHA512.HashData(block, saltDigest);
                    BcryptHash(state, passDigest, saltDigest, block);
                    for (var i = 0; i < HashSize; i++)
                    {
                        accumulated[i] ^= block[i];
                    }
                }

                // Spread the output bytes across the key, so that every block contributes to every part of it.
                var take = Math.Min(amount, remaining);
                int written;
                for (written = 0; written < take; written++)
                {
                    var destination = (written * stride) + (int)(count - 1);
                    if (destination >= keyLength)
                    {
                        break;
                    }

                    output[destination] = accumulated[written];
                }

                remaining -= written;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passDigest);
            CryptographicOperations.ZeroMemory(saltDigest);
            CryptographicOperations.ZeroMemory(block);
            CryptographicOperations.ZeroMemory(accumulated);
            CryptographicOperations.ZeroMemory(countSalt);
            state.Clear();
        }
    }

    private static void BcryptHash(Blowfish state, ReadOnlySpan<byte> passDigest, ReadOnlySpan<byte> saltDigest, Span<byte> output)
    {
        state.Reset();
        state.ExpandState(saltDigest, passDigest);
        for (var i = 0; i < 64; i++)
        {
            state.ExpandKeyOnly(saltDigest);
            state.ExpandKeyOnly(passDigest);
        }

        Span<uint> words = stackalloc uint[HashSize / 4];
        for (var i = 0; i < words.Length; i++)
        {
            words[i] = BinaryPrimitives.ReadUInt32BigEndian(Magic[(i * 4)..]);
        }

        for (var i = 0; i < 64; i++)
        {
            for (var j = 0; j < words.Length; j += 2)
            {
                state.Encipher(ref words[j], ref words[j + 1]);
            }
        }

        // bcrypt_pbkdf writes the words out little-endian (unlike bcrypt password hashing).
        for (var i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(output[(i * 4)..], words[i]);
        }

        words.Clear();
    }

    /// <summary>The Blowfish state with the "expensive key schedule" steps bcrypt needs.</summary>
    internal sealed class Blowfish
    {
        private const int Rounds = 16;
        private readonly uint[] _p = new uint[Rounds + 2];
        private readonly uint[] _s = new uint[4 * 256];

        public void Reset()
        {
            var initial = PiDigits.Words;
            initial.AsSpan(0, _p.Length).CopyTo(_p);
            initial.AsSpan(_p.Length, _s.Length).CopyTo(_s);
        }

        public void Clear()
        {
            Array.Clear(_p);
            Array.Clear(_s);
        }

        public void Encipher(ref uint left, ref uint right)
        {
            var l = left ^ _p[0];
            var r = right;
            for (var i = 1; i <= Rounds; i += 2)
            {
                r ^= F(l) ^ _p[i];
                l ^= F(r) ^ _p[i + 1];
            }

            left = r ^ _p[Rounds + 1];
            right = l;
        }

        /// <summary>Blowfish_expandstate: mixes the key into P, then refills P and S while folding in the data (salt).</summary>
        public void ExpandState(ReadOnlySpan<byte> data, ReadOnlySpan<byte> key)
        {
            XorKeyIntoP(key);
            var position = 0;
            uint left = 0, right = 0;
            for (var i = 0; i < _p.Length; i += 2)
            {
                left ^= NextWord(data, ref position);
                right ^= NextWord(data, ref position);
                Encipher(ref left, ref right);
                _p[i] = left;
                _p[i + 1] = right;
            }

            for (var i = 0; i < _s.Length; i += 2)
            {
                left ^= NextWord(data, ref position);
                right ^= NextWord(data, ref position);
                Encipher(ref left, ref right);
                _s[i] = left;
                _s[i + 1] = right;
            }
        }

        /// <summary>Blowfish_expand0state: the standard Blowfish key schedule applied to the current state.</summary>
        public void ExpandKeyOnly(ReadOnlySpan<byte> key)
        {
            XorKeyIntoP(key);
            uint left = 0, right = 0;
            for (var i = 0; i < _p.Length; i += 2)
            {
                Encipher(ref left, ref right);
                _p[i] = left;
                _p[i + 1] = right;
            }

            for (var i = 0; i < _s.Length; i += 2)
            {
                Encipher(ref left, ref right);
                _s[i] = left;
                _s[i + 1] = right;
            }
        }

        private void XorKeyIntoP(ReadOnlySpan<byte> key)
        {
            var position = 0;
            for (var i = 0; i < _p.Length; i++)
            {
                _p[i] ^= NextWord(key, ref position);
            }
        }

        private uint F(uint x) =>
            ((_s[(int)(x >> 24)] + _s[256 + (int)((x >> 16) & 0xFF)]) ^ _s[512 + (int)((x >> 8) & 0xFF)]) + _s[768 + (int)(x & 0xFF)];

        /// <summary>Reads the next big-endian word from <paramref name="data"/>, wrapping around at its end.</summary>
        private static uint NextWord(ReadOnlySpan<byte> data, ref int position)
        {
            uint word = 0;
            for (var i = 0; i < 4; i++)
            {
                if (position >= data.Length)
                {
                    position = 0;
                }

                word = (word << 8) | data[position];
                position++;
            }

            return word;
        }
    }

    /// <summary>
    /// Blowfish's initial P-array and S-boxes are the hexadecimal digits of the fractional part of pi
    /// (P first, then S-boxes 0 to 3): 1042 words, computed once here with Machin's formula.
    /// </summary>
    internal static class PiDigits
    {
        public const int WordCount = 18 + (4 * 256);
        private static readonly Lazy<uint[]> Lazy = new(Compute, LazyThreadSafetyMode.ExecutionAndPublication);

        public static uint[] Words => Lazy.Value;

        private static uint[] Compute()
        {
            const int fractionBits = WordCount * 32;
            const int guardBits = 64;
            const int scale = fractionBits + guardBits;
            var one = BigInteger.One << scale;

            // pi = 16 * atan(1/5) - 4 * atan(1/239)
            var pi = (16 * ArcTanInverse(5, one)) - (4 * ArcTanInverse(239, one));
            var fraction = (pi - (3 * one)) >> guardBits;
            var words = new uint[WordCount];
            var mask = new BigInteger(uint.MaxValue);
            for (var i = 0; i < WordCount; i++)
            {
                words[i] = (uint)((fraction >> (fractionBits - (32 * (i + 1)))) & mask);
            }

            return words;
        }

        private static BigInteger ArcTanInverse(int x, BigInteger one)
        {
            var power = one / x; // one / x^(2k+1)
            var xSquared = x * x;
            var sum = power;
            var sign = -1;
            for (var k = 1; !power.IsZero; k++)
            {
                power /= xSquared;
                var term = power / ((2 * k) + 1);
                sum += sign * term;
                sign = -sign;
            }

            return sum;
        }
    }
}
