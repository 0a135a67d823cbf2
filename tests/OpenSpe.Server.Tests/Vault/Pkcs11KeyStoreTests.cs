using Microsoft.Extensions.Logging.Abstractions;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Vault;

/// <summary>The shared key-management suite on a real PKCS#11 token (SoftHSM2), plus what only the HSM backend does.</summary>
[Collection(SoftHsmTests.Name)]
public sealed class Pkcs11KeyStoreTests(SoftHsmFixture hsm) : ProjectKeyStoreBehaviour, IClassFixture<SoftHsmFixture>
{
    // Note: each test has master-key labels of its own, because the tokens are shared by every test of the class and
    // xunit's order of them changes with the folder the test assembly runs from (CI clones into a new one every run).
    // With one label for all, a test found the master-key versions the tests before it had left. That was the "flake"
    // of WrongMasterKey_FailsClosed: after exactly one earlier rotation the first token's current key was <label>-v2,
    // the other token's own rotation also made <label>-v2, so that rotation skipped the blob as already wrapped with
    // its new key and succeeded; other orders gave MasterKeyUnavailable, and only the first one the HSM's refusal.
    // SoftHSM2 never decrypted with the other token's key.
    private readonly string _keyLabel = "test-" + Guid.NewGuid().ToString("N")[..12];

    private protected override WrappedKeyStore CreateStore(DataDirectory data, TimeProvider time)
    {
        hsm.Require();
        return new Pkcs11KeyStore(data, Options(hsm.TokenLabel), time, NullLogger<Pkcs11KeyStore>.Instance);
    }

    private protected override WrappedKeyStore CreateStoreWithOtherMasterKey(DataDirectory data)
    {
        hsm.Require();
        // The same label on another token: the blob names a key this token holds, so only the HSM's decryption with
        // a different key can refuse it.
        return new Pkcs11KeyStore(data, Options(hsm.OtherTokenLabel), TimeProvider.System, NullLogger<Pkcs11KeyStore>.Instance);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task MasterKey_LivesInTheToken_SensitiveAndNotExtractable_AndRotationDestroysTheOldOne()
    {
        var store = (Pkcs11KeyStore)Open(NewData());
        await store.CreateProjectKeyAsync("p1");
        var before = store.MasterKeyIds.Single();

        var rotation = await store.RotateMasterKeyAsync();

        Assert.Equal([before], rotation.RetiredMasterKeyIds);
        var labels = TokenKeys();
        Assert.DoesNotContain(labels, k => k.Label == before);
        var current = Assert.Single(labels, k => k.Label == rotation.NewMasterKeyId);
        Assert.True(current.Sensitive);
        Assert.False(current.Extractable);
        Assert.False(current.HasValue);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public void WrongPin_StopsWithAClearConfigurationError_WithoutThePin()
    {
        hsm.Require();
        var options = hsm.Options();
        options.Pin = "000000-wrong";

        var ex = Assert.Throws<SpeConfigurationException>(() => new Pkcs11KeyStore(NewData(), options, null, NullLogger<Pkcs11KeyStore>.Instance));

        Assert.Contains("CKR_PIN_INCORRECT", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(options.Pin, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public void UnknownToken_StopsWithAClearConfigurationError()
    {
        hsm.Require();

        var ex = Assert.Throws<SpeConfigurationException>(() => new Pkcs11KeyStore(NewData(), hsm.Options("no-such-token"), null, NullLogger<Pkcs11KeyStore>.Instance));

        Assert.Contains("no-such-token", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task TwoStoresOnOneToken_ShareTheLibraryAndTheMasterKey()
    {
        var first = Open(NewData());
        var second = Open(NewData("second"));

        var k1 = await first.CreateProjectKeyAsync("p1");
        var k2 = await second.CreateProjectKeyAsync("p1");
        first.Dispose();

        Assert.NotEqual(k1, k2);
        Assert.Equal(k2, await second.GetPublicKeyAsync("p1"));
    }

    private Pkcs11Options Options(string tokenLabel)
    {
        var options = hsm.Options(tokenLabel);
        options.KeyLabel = _keyLabel;
        return options;
    }

    private List<(string Label, bool Sensitive, bool Extractable, bool HasValue)> TokenKeys()
    {
        using var lease = Pkcs11Libraries.Acquire(SoftHsmFixture.Library);
        var slot = lease.Library.GetSlotList(SlotsType.WithTokenPresent).Single(s => s.GetTokenInfo().Label.Trim() == hsm.TokenLabel);
        using var session = slot.OpenSession(SessionType.ReadOnly);
        var factory = Pkcs11Libraries.Factories.ObjectAttributeFactory;
        var keys = new List<(string, bool, bool, bool)>();
        foreach (var handle in session.FindAllObjects([factory.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY)]))
        {
            var attributes = session.GetAttributeValue(handle, [CKA.CKA_LABEL, CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE]);
            // A sensitive key's value cannot be read, even by its owner.
            var value = session.GetAttributeValue(handle, [CKA.CKA_VALUE])[0];
            keys.Add((attributes[0].GetValueAsString(), attributes[1].GetValueAsBool(), attributes[2].GetValueAsBool(), !value.CannotBeRead));
        }

        return keys;
    }
}
