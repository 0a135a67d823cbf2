using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpenSpe.Core.Federation;

/// <summary>
/// A federation revocation list as a node reads it: signed by the federation CA (checked), current from <see cref="ThisUpdate"/>
/// to <see cref="NextUpdate"/>, naming revoked serial numbers. The BCL builds CRLs but does not read them, so this reads the
/// X.509 CertificateList (RFC 5280 §5.1) with <see cref="AsnReader"/>.
/// </summary>
/// <param name="Number">The CRL number (grows with every list the CA writes).</param>
/// <param name="ThisUpdate">When it was made.</param>
/// <param name="NextUpdate">When it stops being current.</param>
/// <param name="RevokedSerials">Revoked serial numbers, upper-case hex as <see cref="X509Certificate2.SerialNumber"/> prints them.</param>
public sealed record FederationCrl(BigInteger Number, DateTimeOffset ThisUpdate, DateTimeOffset? NextUpdate, IReadOnlySet<string> RevokedSerials)
{
    private const string CrlNumberOid = "2.5.29.20";

    /// <summary>True when the certificate's serial number is on the list.</summary>
    public bool IsRevoked(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return RevokedSerials.Contains(certificate.SerialNumber);
    }

    /// <summary>Reads a PEM (or DER) CRL and checks that <paramref name="issuer"/> signed it.</summary>
    /// <exception cref="CryptographicException">Not a CRL, not from this issuer, or the signature does not verify.</exception>
    public static FederationCrl Parse(string pemOrBase64, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(pemOrBase64);
        var fields = PemEncoding.TryFind(pemOrBase64, out var found) ? found : throw new CryptographicException("no PEM block in the revocation list");
        if (!pemOrBase64.AsSpan()[fields.Label].SequenceEqual("X509 CRL"))
        {
            throw new CryptographicException("the PEM block is not an X509 CRL");
        }

        return Parse(Convert.FromBase64String(pemOrBase64[fields.Base64Data]), issuer);
    }

    /// <summary>Reads a DER CRL and checks that <paramref name="issuer"/> signed it.</summary>
    /// <exception cref="CryptographicException">Not a CRL, not from this issuer, or the signature does not verify.</exception>
    public static FederationCrl Parse(byte[] der, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(der);
        ArgumentNullException.ThrowIfNull(issuer);
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.DER);
            var list = outer.ReadSequence();
            outer.ThrowIfNotEmpty();
            var tbs = list.ReadEncodedValue();
            var algorithm = ReadAlgorithm(list);
            var signature = list.ReadBitString(out var unused);
            list.ThrowIfNotEmpty();
            if (unused != 0)
            {
                throw new CryptographicException("the CRL signature is not a whole number of bytes");
            }

            Verify(tbs, algorithm, signature, issuer);
            return ReadTbs(tbs, issuer);
        }
        catch (AsnContentException ex)
        {
            throw new CryptographicException("the revocation list is not a valid CRL", ex);
        }
    }

    private static void Verify(ReadOnlyMemory<byte> tbs, string algorithm, byte[] signature, X509Certificate2 issuer)
    {
        var hash = algorithm switch
        {
            "1.2.840.10045.4.3.2" => HashAlgorithmName.SHA256,
            "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,
            "1.2.840.10045.4.3.4" => HashAlgorithmName.SHA512,
            _ => throw new CryptographicException($"the CRL is signed with {algorithm}, not ECDSA"),
        };
        using var key = issuer.GetECDsaPublicKey() ?? throw new CryptographicException("the CA certificate has no ECDSA key");
        // Note: the signature is checked before any entry is believed, because a forged list could otherwise un-revoke a peer.
        if (!key.VerifyData(tbs.Span, signature, hash, DSASignatureFormat.Rfc3279DerSequence))
        {
            throw new CryptographicException("the CRL signature does not verify with the federation CA's key");
        }
    }

    private static FederationCrl ReadTbs(ReadOnlyMemory<byte> tbs, X509Certificate2 issuer)
    {
        var reader = new AsnReader(tbs, AsnEncodingRules.DER).ReadSequence();
        if (reader.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
        {
            _ = reader.ReadInteger();
        }

        _ = ReadAlgorithm(reader);
        var issuerName = reader.ReadEncodedValue();
        if (!issuerName.Span.SequenceEqual(issuer.SubjectName.RawData))
        {
            throw new CryptographicException("the CRL was issued by another CA");
        }

        var thisUpdate = ReadTime(reader);
        DateTimeOffset? nextUpdate = null;
        if (reader.HasData && IsTime(reader.PeekTag()))
        {
            nextUpdate = ReadTime(reader);
        }

        var serials = new HashSet<string>(StringComparer.Ordinal);
        if (reader.HasData && reader.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            var entries = reader.ReadSequence();
            while (entries.HasData)
            {
                var entry = entries.ReadSequence();
                serials.Add(Convert.ToHexString(entry.ReadIntegerBytes().Span));
            }
        }

        var number = BigInteger.Zero;
        if (reader.HasData)
        {
            var extensions = reader.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence();
            while (extensions.HasData)
            {
                var extension = extensions.ReadSequence();
                var oid = extension.ReadObjectIdentifier();
                if (extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean))
                {
                    _ = extension.ReadBoolean();
                }

                var value = extension.ReadOctetString();
                if (oid == CrlNumberOid)
                {
                    number = new AsnReader(value, AsnEncodingRules.DER).ReadInteger();
                }
            }
        }

        return new FederationCrl(number, thisUpdate, nextUpdate, serials);
    }

    private static string ReadAlgorithm(AsnReader reader)
    {
        var sequence = reader.ReadSequence();
        return sequence.ReadObjectIdentifier();
    }

    private static bool IsTime(Asn1Tag tag) =>
        tag.HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.UtcTime)) || tag.HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.GeneralizedTime));

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.UtcTime)) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();
}
