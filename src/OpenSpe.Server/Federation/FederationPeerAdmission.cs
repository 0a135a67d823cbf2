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
    public const string RevocationRolledBack = "revocation-list-rolled-back";
    public const string NoName = "certificate-names-no-node";
    public const string NotAllowed = "peer-not-on-allow-list";
    public const string NamesDisagree = "certificate-names-disagree";
}

/// <summary>The outcome of one admission: the peer's node name when let in, the reason otherwise.</summary>
internal readonly record struct PeerAdmission(string? Peer, string? Refusal)
{
    public bool Admitted => Refusal is null;
}

/// <summary>
/// Who may open a federation connection (TIR-30, TIR-31), decided at the TLS handshake as an ordered chain:
/// a client certificate → chained to the federation CA and nothing else, valid now → not on the revocation list (which must be
/// usable, and numbered no lower than the highest this node accepted) → names one node, the same in its subject and its SAN → that node is on this node's allow-list. The first failure refuses.
/// </summary>
internal sealed class FederationPeerAdmission(X509Certificate2 authority, FederationRevocations revocations, IReadOnlySet<string> allowedPeers, TimeProvider time)
{
    private const string SubjectAlternativeName = "2.5.29.17";
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <summary>Decides on the certificate a peer presented (null: none).</summary>
    public PeerAdmission Admit(X509Certificate? presented)
    {
        if (presented is null)
        {
            return new(null, PeerRefusalReasons.NoCertificate);
        }

        using var certificate = presented as X509Certificate2 is { } c2 ? X509CertificateLoader.LoadCertificate(c2.RawData) : X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        var (name, agree) = Names(certificate);
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

        var (list, unusable) = revocations.Judge();
        if (list is null)
        {
            return new(name, unusable ?? PeerRefusalReasons.RevocationUnknown);
        }

        if (list.IsRevoked(certificate))
        {
            return new(name, PeerRefusalReasons.Revoked);
        }

        if (name is null)
        {
            return new(null, PeerRefusalReasons.NoName);
        }

        if (!agree)
        {
            return new(name, PeerRefusalReasons.NamesDisagree);
        }

        return allowedPeers.Contains(name) ? new(name, null) : new(name, PeerRefusalReasons.NotAllowed);
    }

    /// <summary>
    /// The node name a federation certificate carries: its one DNS name, when its subject's common name is that same name
    /// (null otherwise: no name, several, or a subject that disagrees).
    /// </summary>
    public static string? NodeName(X509Certificate2 certificate) => Names(certificate) is (var name, true) ? name : null;

    /// <summary>
    /// The certificate's first DNS name (the name it is known by in records) and whether it is the only one and equals the subject's
    /// common name.
    /// </summary>
    /// <remarks>
    /// Note: the federation CA's tool writes the node name in both places; a certificate whose SAN and subject disagree (or that
    /// lists several names) was not made by it, and which name it "really" holds is ambiguous (a TLS stack reads the SAN, a person
    /// reading a log reads the subject), so it is refused rather than judged by one of them.
    /// </remarks>
    private static (string? Name, bool Agree) Names(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var dns = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            // Note: read from the raw extension, because the collection hands out a typed SAN extension only on some platforms.
            if (extension.Oid?.Value == SubjectAlternativeName)
            {
                dns.AddRange(new X509SubjectAlternativeNameExtension(extension.RawData, extension.Critical).EnumerateDnsNames());
            }
        }

        var first = dns.Count > 0 && Core.Federation.FederationNames.IsValid(dns[0]) ? dns[0] : null;
        var common = certificate.GetNameInfo(X509NameType.SimpleName, false);
        return (first, first is not null && dns.Count == 1 && string.Equals(common, first, StringComparison.Ordinal));
    }

    /// <summary>How a refused peer is named in records: its node name, else its address.</summary>
    public static string Describe(string? peer, EndPoint? remote) => peer ?? (remote is IPEndPoint ip ? ip.Address.ToString() : "unknown");
}
