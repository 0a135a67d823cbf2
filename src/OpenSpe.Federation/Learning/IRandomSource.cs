using System.Security.Cryptography;

namespace OpenSpe.Federation.Learning;

/// <summary>
/// Uniform random bytes for the exact samplers. Production uses <see cref="CryptographicRandomSource"/>; tests inject a
/// seeded source so a run can be repeated.
/// </summary>
public interface IRandomSource
{
    /// <summary>Fills <paramref name="buffer"/> with independent uniform random bytes.</summary>
    void Fill(Span<byte> buffer);
}

/// <summary>The operating system's cryptographic generator (<see cref="RandomNumberGenerator"/>).</summary>
public sealed class CryptographicRandomSource : IRandomSource
{
    /// <summary>The one instance (the generator is thread-safe).</summary>
    public static CryptographicRandomSource Instance { get; } = new();

    private CryptographicRandomSource()
    {
    }

    /// <inheritdoc />
    public void Fill(Span<byte> buffer) => RandomNumberGenerator.Fill(buffer);
}
