using System.Security.Cryptography.X509Certificates;

namespace OpenSpe.Server.Federation;

/// <summary>
/// This node in the federation: its name (the DNS name of its certificate), its permit issuer (this SPE's token issuer, which
/// signs the permits it issues), its certificate with key, and the federation CA.
/// </summary>
internal sealed class FederationNodeIdentity(string name, string? issuer, X509Certificate2 certificate, X509Certificate2 authority) : IDisposable
{
    public string Name { get; } = name;

    public string? Issuer { get; } = issuer;

    public X509Certificate2 Certificate { get; } = certificate;

    public X509Certificate2 Authority { get; } = authority;

    public void Dispose()
    {
        Certificate.Dispose();
        Authority.Dispose();
    }
}
