using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Vault;

/// <summary>The shared key-management suite on the embedded keyring, plus what only the keyring does.</summary>
public sealed class LocalKeyringTests : ProjectKeyStoreBehaviour
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private protected override WrappedKeyStore CreateStore(DataDirectory data, TimeProvider time) =>
        new LocalKeyring(data, null, time, NullLogger<LocalKeyring>.Instance);

    private protected override WrappedKeyStore CreateStoreWithOtherMasterKey(DataDirectory data) =>
        new LocalKeyring(data, null, TimeProvider.System, NullLogger<LocalKeyring>.Instance);

    private static LocalKeyring FromEnvironment(DataDirectory data, string variable) =>
        new(data, variable, TimeProvider.System, NullLogger<LocalKeyring>.Instance);

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public void MasterKeyFile_IsCreatedOwnerOnly_InAnOwnerOnlyKeysFolder()
    {
        var data = NewData();

        using var store = CreateStore(data, TimeProvider.System);

        var master = data.File(LocalKeyring.MasterKeyFileName);
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(master));
        Assert.Equal(OwnerReadWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(store.KeysDirectory));
        var lines = File.ReadAllLines(master);
        Assert.Equal("openspe-master-keys 1", lines[0]);
        Assert.StartsWith("v1 ", lines[1], StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(lines[1][3..]).Length);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task RotateMasterKey_ReplacesTheMasterKeyFile()
    {
        var data = NewData();
        var store = Track(CreateStore(data, TimeProvider.System));
        await store.CreateProjectKeyAsync("p1");
        var before = File.ReadAllLines(data.File(LocalKeyring.MasterKeyFileName))[1];

        var rotation = await store.RotateMasterKeyAsync();

        Assert.Equal("v2", rotation.NewMasterKeyId);
        Assert.Equal(["v1"], rotation.RetiredMasterKeyIds);
        var lines = File.ReadAllLines(data.File(LocalKeyring.MasterKeyFileName));
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("v2 ", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain(before[3..], File.ReadAllText(data.File(LocalKeyring.MasterKeyFileName)), StringComparison.Ordinal);
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(data.File(LocalKeyring.MasterKeyFileName)));
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task RotationInterruptedAfterTheNewMasterKeyWasWritten_RecoversOnTheNextRotation()
    {
        var data = NewData();
        var store = CreateStore(data, TimeProvider.System);
        var k1 = await store.CreateProjectKeyAsync("p1");
        store.Dispose();
        // The state a crash leaves between "new master key durable" and "old ones retired".
        File.AppendAllText(data.File(LocalKeyring.MasterKeyFileName), "v2 " + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n");

        var resumed = Track(CreateStore(data, TimeProvider.System));
        var k2 = await resumed.CreateProjectKeyAsync("p2");

        Assert.Equal(k1, await resumed.GetPublicKeyAsync("p1"));
        var rotation = await resumed.RotateMasterKeyAsync();
        Assert.Equal("v3", rotation.NewMasterKeyId);
        Assert.Equal(["v1", "v2"], rotation.RetiredMasterKeyIds.Order());
        Assert.Equal(k1, await resumed.GetPublicKeyAsync("p1"));
        Assert.Equal(k2, await resumed.GetPublicKeyAsync("p2"));
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public void MasterKeyFile_ReadableByOthers_IsRefused()
    {
        var data = NewData();
        CreateStore(data, TimeProvider.System).Dispose();
        File.SetUnixFileMode(data.File(LocalKeyring.MasterKeyFileName), OwnerReadWrite | UnixFileMode.GroupRead);

        var ex = Assert.Throws<SpeConfigurationException>(() => CreateStore(data, TimeProvider.System));

        Assert.Contains("chmod 600", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public void MasterKeyFile_Malformed_IsRefused()
    {
        var data = NewData();
        File.WriteAllText(data.File(LocalKeyring.MasterKeyFileName), "openspe-master-keys 1\nv1 c2hvcnQ=\n");
        File.SetUnixFileMode(data.File(LocalKeyring.MasterKeyFileName), OwnerReadWrite);

        Assert.Throws<SpeConfigurationException>(() => CreateStore(data, TimeProvider.System));
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task MasterKeyFromEnvironment_IsUsed_AndNoMasterKeyFileIsWritten()
    {
        var variable = "SPE_TEST_MASTER_KEY_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        try
        {
            var data = NewData();
            using var store = FromEnvironment(data, variable);
            var publicKey = await store.CreateProjectKeyAsync("p1");

            Assert.True(store.MasterKeyFromEnvironment);
            Assert.False(File.Exists(data.File(LocalKeyring.MasterKeyFileName)));
            Assert.Equal(publicKey, await store.GetPublicKeyAsync("p1"));
            var rotate = await Assert.ThrowsAsync<ProjectKeyException>(() => store.RotateMasterKeyAsync());
            Assert.Equal(ProjectKeyError.RotationNotSupported, rotate.Error);

            // Another environment key is recognised as another key, and fails closed.
            Environment.SetEnvironmentVariable(variable, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            using var other = FromEnvironment(data, variable);
            var ex = await Assert.ThrowsAsync<ProjectKeyException>(() => other.GetPublicKeyAsync("p1"));
            Assert.Equal(ProjectKeyError.MasterKeyUnavailable, ex.Error);

            // Neither does the file keyring read keys wrapped by the environment key.
            using var fileKeyring = CreateStore(data, TimeProvider.System);
            await Assert.ThrowsAsync<ProjectKeyException>(() => fileKeyring.GetPublicKeyAsync("p1"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Theory]
    [Trait("Requirement", "TIR-8")]
    [InlineData("not base64!")]
    [InlineData("c2hvcnQ=")]
    public void MasterKeyFromEnvironment_Malformed_IsRefused(string value)
    {
        var variable = "SPE_TEST_MASTER_KEY_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, value);
        try
        {
            var ex = Assert.Throws<SpeConfigurationException>(() => FromEnvironment(NewData(), variable));
            Assert.Contains(variable, ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(value, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    [Trait("Requirement", "OPR-22")]
    public async Task DestroyProjectKey_OverwritesTheWrappedKeyBeforeUnlinkingIt()
    {
        var data = NewData();
        var store = Track(CreateStore(data, TimeProvider.System));
        await store.CreateProjectKeyAsync("p1");
        var path = KeyFile(data, "p1");
        var original = await File.ReadAllBytesAsync(path);
        // A hard link keeps the inode reachable after the unlink, so we can see what was written to it.
        var witness = NewData("witness").File("p1.link");
        using (var ln = Process.Start("ln", [path, witness]))
        {
            await ln.WaitForExitAsync();
            Assert.Equal(0, ln.ExitCode);
        }

        await store.DestroyProjectKeyAsync("p1");

        Assert.False(File.Exists(path));
        var after = await File.ReadAllBytesAsync(witness);
        Assert.Equal(original.Length, after.Length);
        Assert.NotEqual(original, after);
        Assert.False(after.AsSpan().StartsWith("OSPEPK"u8));
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task KeyOfAnotherBackend_IsNotMistakenForThisOnes()
    {
        var data = NewData();
        var store = Track(CreateStore(data, TimeProvider.System));
        await store.CreateProjectKeyAsync("p1");
        var path = KeyFile(data, "p1");
        var blob = await File.ReadAllBytesAsync(path);
        blob[7] = 2; // backend tag: pkcs11

        await File.WriteAllBytesAsync(path, blob);

        var ex = await Assert.ThrowsAsync<ProjectKeyException>(() => store.GetPublicKeyAsync("p1"));
        Assert.Equal(ProjectKeyError.MasterKeyUnavailable, ex.Error);
        Assert.Contains("pkcs11", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task StaleTemporaryFiles_AreShreddedAtOpen()
    {
        var data = NewData();
        CreateStore(data, TimeProvider.System).Dispose();
        var stale = Path.Combine(data.File(WrappedKeyStore.KeysFolder), ".tmp-0123");
        await File.WriteAllBytesAsync(stale, RandomNumberGenerator.GetBytes(100));

        using var store = CreateStore(data, TimeProvider.System);

        Assert.False(File.Exists(stale));
    }
}
