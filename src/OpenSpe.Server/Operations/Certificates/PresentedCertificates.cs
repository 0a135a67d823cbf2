using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Federation;

namespace OpenSpe.Server.Operations.Certificates;

/// <summary>
/// The certificates this server presents to others: its TLS certificate and, when federation is configured, the node's
/// federation certificate. One list for the expiry alert and the certificate evidence, so both watch the same ones.
/// </summary>
internal static class PresentedCertificates
{
    /// <summary>Each presented certificate with the name it is reported by (<c>tls</c>, <c>federation</c>).</summary>
    public static IReadOnlyList<(string Name, X509Certificate2 Certificate)> Of(IServiceProvider services)
    {
        var certificates = new List<(string, X509Certificate2)> { ("tls", services.GetRequiredService<X509Certificate2>()) };
        if (services.GetService<FederationNodeIdentity>() is { } node)
        {
            certificates.Add(("federation", node.Certificate));
        }

        return certificates;
    }

    /// <summary>The time left before <paramref name="certificate"/> expires at <paramref name="now"/> (negative once expired).</summary>
    public static TimeSpan Left(X509Certificate2 certificate, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new DateTimeOffset(certificate.NotAfter.ToUniversalTime()) - now;
    }

    /// <summary>Whole days in <paramref name="left"/>, rounded down (0 or less once expired), as alerts and evidence report them.</summary>
    public static long WholeDays(TimeSpan left) => (long)Math.Floor(left.TotalDays);
}
