using System.Security.Cryptography;
using System.Text;
using OpenSpe.Core.Audit;

namespace OpenSpe.Core.Tests.Audit;

public sealed class AuditSigningKeyTests
{
    private static readonly byte[] SomeHash = SHA256.HashData("head"u8);

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void PrivatePem_RoundTrips_SameKeyIdAndCanSign()
    {
        using var original = AuditSigningKey.Generate();

        using var loaded = AuditSigningKey.FromPem(original.ExportPrivateKeyPem());
        var checkpoint = loaded.Sign(5, SomeHash, 1, AuditCheckpointKinds.Periodic);

        Assert.True(loaded.HasPrivateKey);
        Assert.Equal(original.KeyId, loaded.KeyId);
        Assert.Equal(original.ExportPublicKeyPem(), loaded.ExportPublicKeyPem());
        Assert.True(original.Verify(checkpoint));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void PublicPem_RoundTrips_VerifiesButCannotSign()
    {
        using var original = AuditSigningKey.Generate();
        var checkpoint = original.Sign(5, SomeHash, 1, AuditCheckpointKinds.Periodic);

        using var publicKey = AuditSigningKey.FromPem(original.ExportPublicKeyPem());

        Assert.False(publicKey.HasPrivateKey);
        Assert.Equal(original.KeyId, publicKey.KeyId);
        Assert.Equal(original.ExportPublicKeyPem(), publicKey.ExportPublicKeyPem());
        Assert.True(publicKey.Verify(checkpoint));
        Assert.Throws<InvalidOperationException>(() => publicKey.Sign(5, SomeHash, 1, AuditCheckpointKinds.Periodic));
    }

    [Fact]
    public void Pems_HaveTheStandardLabels()
    {
        using var key = AuditSigningKey.Generate();

        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", key.ExportPrivateKeyPem(), StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", key.ExportPublicKeyPem(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void KeyId_IsFirst16HexDigitsOfSha256OverSubjectPublicKeyInfo()
    {
        using var key = AuditSigningKey.Generate();
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportFromPem(key.ExportPublicKeyPem());

        var expected = Convert.ToHexStringLower(SHA256.HashData(ecdsa.ExportSubjectPublicKeyInfo()))[..16];

        Assert.Equal(expected, key.KeyId);
        Assert.Matches("^[0-9a-f]{16}$", key.KeyId);
    }

    [Fact]
    public void KeyId_IsStableAcrossLoadsAndDistinctAcrossKeys()
    {
        using var a = AuditSigningKey.Generate();
        using var b = AuditSigningKey.Generate();
        var pem = a.ExportPrivateKeyPem();

        using var first = AuditSigningKey.FromPem(pem);
        using var second = AuditSigningKey.FromPem(pem);

        Assert.Equal(first.KeyId, second.KeyId);
        Assert.NotEqual(a.KeyId, b.KeyId);
    }

    [Fact]
    public void FromPem_ForeignEcKeyPem_IsAccepted()
    {
        // A P-256 key made by another tool (SEC1 "EC PRIVATE KEY", as `openssl ecparam -genkey` writes) loads too.
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = ecdsa.ExportECPrivateKeyPem();

        using var key = AuditSigningKey.FromPem(pem);

        Assert.True(key.HasPrivateKey);
        Assert.True(key.Verify(key.Sign(1, SomeHash, 1, AuditCheckpointKinds.Periodic)));
    }

    [Fact]
    public void FromPem_P384Key_IsRefused()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.Throws<CryptographicException>(() => AuditSigningKey.FromPem(ecdsa.ExportPkcs8PrivateKeyPem()));
    }

    [Fact]
    public void FromPem_NotAKey_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => AuditSigningKey.FromPem("not a pem"));
        Assert.Throws<ArgumentNullException>(() => AuditSigningKey.FromPem(null!));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Sign_ProducesP1363SignatureOverThePayload()
    {
        using var key = AuditSigningKey.Generate();
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportFromPem(key.ExportPublicKeyPem());

        var checkpoint = key.Sign(1000, SomeHash, 1_767_225_600_123_456, AuditCheckpointKinds.Periodic);

        Assert.Equal(64, checkpoint.Signature.Length);
        Assert.Equal(key.KeyId, checkpoint.KeyId);
        Assert.Equal(SomeHash, checkpoint.Hash);
        Assert.True(ecdsa.VerifyData(checkpoint.SignedPayload(), checkpoint.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Payload_IsPinned()
    {
        // The signed bytes are a stored format like the canonical record form: a change is a new version.
        var hash = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var payload = Encoding.UTF8.GetString(AuditCheckpoint.Payload(1000, hash, 1_767_225_600_123_456, AuditCheckpointKinds.Periodic, "0123456789abcdef"));

        Assert.Equal(
            "{\"type\":\"openspe-audit-checkpoint\",\"v\":1,\"seq\":1000," +
            "\"hash\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"," +
            "\"ts\":\"2026-01-01T00:00:00.123456Z\",\"kind\":\"periodic\",\"key\":\"0123456789abcdef\"}",
            payload);
    }

    [Theory]
    [Trait("Requirement", "EHDSR-6")]
    [InlineData("seq")]
    [InlineData("hash")]
    [InlineData("ts")]
    [InlineData("kind")]
    [InlineData("signature")]
    public void Verify_CheckpointWithAnyFieldChanged_IsRejected(string field)
    {
        using var key = AuditSigningKey.Generate();
        var checkpoint = key.Sign(10, SomeHash, 100, AuditCheckpointKinds.Periodic);
        var hash = checkpoint.Hash.ToArray();
        hash[0] ^= 1;
        var signature = checkpoint.Signature.ToArray();
        signature[^1] ^= 1;

        var changed = field switch
        {
            "seq" => checkpoint with { Sequence = 11 },
            "hash" => checkpoint with { Hash = hash },
            "ts" => checkpoint with { TimestampMicros = 101 },
            "kind" => checkpoint with { Kind = AuditCheckpointKinds.Idle },
            _ => checkpoint with { Signature = signature },
        };

        Assert.True(key.Verify(checkpoint));
        Assert.False(key.Verify(changed));
    }

    [Fact]
    public void Verify_CheckpointWithOtherKeyId_IsRejected()
    {
        using var key = AuditSigningKey.Generate();
        var checkpoint = key.Sign(10, SomeHash, 100, AuditCheckpointKinds.Periodic);

        Assert.False(key.Verify(checkpoint with { KeyId = "0000000000000000" }));
    }

    [Fact]
    public void Verify_CheckpointWithShortHashOrSignature_IsRejectedWithoutThrowing()
    {
        using var key = AuditSigningKey.Generate();
        var checkpoint = key.Sign(10, SomeHash, 100, AuditCheckpointKinds.Periodic);

        Assert.False(key.Verify(checkpoint with { Hash = SomeHash[..31] }));
        Assert.False(key.Verify(checkpoint with { Signature = checkpoint.Signature[..63] }));
        Assert.False(key.Verify(checkpoint with { Signature = [] }));
    }

    [Fact]
    public void Verify_CheckpointSignedByAnotherKey_IsRejected()
    {
        using var key = AuditSigningKey.Generate();
        using var other = AuditSigningKey.Generate();

        Assert.False(key.Verify(other.Sign(10, SomeHash, 100, AuditCheckpointKinds.Periodic)));
    }
}
