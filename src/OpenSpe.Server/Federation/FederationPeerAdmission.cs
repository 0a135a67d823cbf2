using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenSpe.Server.Federation;

/// <summary>Why a peer was not let in (what the audit record and the log name).</summary>
internal static class PeerRefusalReasons
{
    public const string NoCertificate = "no-client-certificate-or-tls-failure";
    public const string Untrusted = "not-issued-by-the-federation-ca";
    public const string Expired = "certificate-not-valid-now";
    public const string Revoked = "certificate-revoked";
    public const string RevocationUnknown = "revocation-list-unusable";
    public const string NoName = "certificate-names-no-node";
    public const string NotAllowed = "peer-not-on-allow-list";
}

/// <summary>The outcome of one admission: the peer's node name when let in, the reason otherwise.</summary>
internal readonly record struct PeerAdmission(string? Peer, string? Refusal)
{
    public bool Admitted => Refusal is null;
}

/// <summary>
/// Who may open a federation connection (TIR-30, TIR-31), decided at the TLS handshake as an ordered chain:
/// a client certificate → chained to the federation CA and nothing else, valid now → not on the revocation list (which must be
/// usable) → names a node → that node is on this node's allow-list. The first failure refuses.
/// </summary>
internal sealed class FederationPeerAdmission(X509Certificate2 authority, FederationRevocations revocations, IReadOnlySet<string> allowedPeers, TimeProvider time)
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <summary>Decides on the certificate a peer presented (null: none).</summary>
    public PeerAdmission Admit(X509Certificate? presented)
    {
        if (presented is null)
        {
            return new(null, PeerRefusalReasons.NoCertificate);
        }

        using var certificate = presented as X509Certificate2 is { } c2 ? X509CertificateLoader.LoadCertificate(c2.RawData) : X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        var name = NodeName(certificate);
        using var chain = new X509Chain();
        // Note: CustomRootTrust with the federation CA alone, because the system's roots (any public CA) must not vouch for a peer.
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        if (!chain.Build(certificate))
        {
            var timeOnly = chain.ChainStatus.Length > 0 && chain.ChainStatus.All(s => s.Status == X509ChainStatusFlags.NotTimeValid);
            return new(name, timeOnly ? PeerRefusalReasons.Expired : PeerRefusalReasons.Untrusted);
        }

        if (chain.ChainElements.Count != 2 || !chain.ChainElements[1].Certificate.RawData.AsSpan().SequenceEqual(authority.RawData))
        {
            return new(name, PeerRefusalReasons.Untrusted);
        }

        if (revocations.Current() is not { } list)
        {
            return new(name, PeerRefusalReasons.RevocationUnknown);
        }

        if (list.IsRevoked(certificate))
        {
            return new(name, PeerRefusalReasons.Revoked);
        }

        if (name is null)
        {
            return new(null, PeerRefusalReasons.NoName);
        }

        return allowedPeers.Contains(name) ? new(name, null) : new(name, PeerRefusalReasons.NotAllowed);
    }

    /// <summary>The node name a federation certificate carries: its DNS name.</summary>
    public static string? NodeName(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var name = certificate.GetNameInfo(X509NameType.DnsName, false);
        return Core.Federation.FederationNames.IsValid(name) ? name : null;
    }

    /// <summary>How a refused peer is named in records: its node name, else its address.</summary>
    public static string Describe(string? peer, EndPoint? remote) => peer ?? (remote is IPEndPoint ip ? ip.Address.ToString() : "unknown");
}
