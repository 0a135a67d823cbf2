using System.Security.Cryptography;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>Paths of the interop vectors and keys shared by the tests (scrypt-locked keys are unlocked once).</summary>
internal static class TestData
{
    public const string Passphrase = "pass-public";

    private static readonly Lazy<Crypt4ghPrivateKey> LazyResearcher = new(() => LoadSecret("researcher.sec"));
    private static readonly Lazy<Crypt4ghPrivateKey> LazyHolder = new(() => LoadSecret("holder.sec"));
    private static readonly Lazy<Crypt4ghPrivateKey> LazyProject = new(() => LoadSecret("project.nocrypt.sec"));

    public static string VectorDir => Path.Combine(AppContext.BaseDirectory, "Vectors");

    public static Crypt4ghPrivateKey Researcher => LazyResearcher.Value;

    public static Crypt4ghPrivateKey Holder => LazyHolder.Value;

    public static Crypt4ghPrivateKey Project => LazyProject.Value;

    public static string KeyPath(string name) => Path.Combine(VectorDir, "keys", name);

    public static string EncPath(string name) => Path.Combine(VectorDir, "enc", name);

    public static string PlainPath(string name) => Path.Combine(VectorDir, "plain", name);

    public static Crypt4ghPublicKey PublicKey(string name) => Crypt4ghPublicKey.Load(KeyPath(name));

    public static Dictionary<string, string> PlainSha256() =>
        File.ReadAllLines(Path.Combine(VectorDir, "plain.sha256"))
            .Where(line => line.Trim().Length > 0)
            .Select(line => line.Split("  ", 2))
            .ToDictionary(parts => Path.GetFileName(parts[1].Trim()), parts => parts[0].Trim());

    public static string Sha256Hex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static Crypt4ghPrivateKey LoadSecret(string name) =>
        Crypt4ghPrivateKey.Load(KeyPath(name), () => Passphrase);
}

/// <summary>A stream that hides seeking, to exercise the forward-only code paths.</summary>
internal sealed class ForwardOnlyStream(Stream inner) : Stream
{
    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 1000 + (count / 3)));

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
}

/// <summary>Records which byte ranges of the inner stream were read.</summary>
internal sealed class ReadRecordingStream(Stream inner) : Stream
{
    public List<(long Offset, int Count)> Reads { get; } = [];

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var position = inner.Position;
        var n = inner.Read(buffer, offset, count);
        if (n > 0)
        {
            Reads.Add((position, n));
        }

        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
