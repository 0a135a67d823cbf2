using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Vault;

/// <summary>
/// The key-management behaviour every backend must have (TIR-8, SDR-3, OPR-22), run against the
/// local keyring and a real PKCS#11 token by the classes that derive from this one.
/// </summary>
public abstract class ProjectKeyStoreBehaviour : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly List<IDisposable> _opened = [];

    /// <summary>A store on <paramref name="data"/> with this suite's master key.</summary>
    private protected abstract WrappedKeyStore CreateStore(DataDirectory data, TimeProvider time);

    /// <summary>A store on <paramref name="data"/> whose master key is a different one.</summary>
    private protected abstract WrappedKeyStore CreateStoreWithOtherMasterKey(DataDirectory data);

    private protected DataDirectory NewData(string name = "data") => DataDirectory.Open(_temp.File(name));

    private protected WrappedKeyStore Open(DataDirectory data, TimeProvider? time = null) => Track(CreateStore(data, time ?? TimeProvider.System));

    private protected WrappedKeyStore Track(WrappedKeyStore store)
    {
        _opened.Add(store);
        return store;
    }

    private protected static string KeyFile(DataDirectory data, string projectId) => WrappedKeyStore.KeyPath(data.File(WrappedKeyStore.KeysFolder), projectId);

    protected static byte[] Encrypt(byte[] plaintext, Crypt4ghPublicKey recipient)
    {
        using var output = new MemoryStream();
        Crypt4ghFile.Encrypt(new MemoryStream(plaintext), output, [recipient]);
        return output.ToArray();
    }

    protected static byte[] Decrypt(byte[] ciphertext, Crypt4ghPrivateKey key)
    {
        using var output = new MemoryStream();
        Crypt4ghFile.Decrypt(new MemoryStream(ciphertext), output, key);
        return output.ToArray();
    }

    protected static byte[] RandomData(int size) => RandomNumberGenerator.GetBytes(size);

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task CreateProjectKey_ReturnsPublicKey_ThatSurvivesReopening()
    {
        var data = NewData();
        var store = Open(data);

        var created = await store.CreateProjectKeyAsync("p1");

        Assert.True(await store.ExistsAsync("p1"));
        Assert.False(await store.ExistsAsync("p2"));
        Assert.Equal(created, await store.GetPublicKeyAsync("p1"));
        store.Dispose();
        var reopened = Open(data);
        Assert.Equal(created, await reopened.GetPublicKeyAsync("p1"));
        Assert.Equal(["p1"], reopened.ListProjects());
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task CreateProjectKey_Twice_FailsAndKeepsTheFirstKey()
    {
        var store = Open(NewData());
        var first = await store.CreateProjectKeyAsync("p1");

        var ex = await Assert.ThrowsAsync<ProjectKeyException>(() => store.CreateProjectKeyAsync("p1"));

        Assert.Equal(ProjectKeyError.AlreadyExists, ex.Error);
        Assert.Equal(first, await store.GetPublicKeyAsync("p1"));
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task UnknownProject_IsNotFound_AndMalformedIdsAreRejected()
    {
        var store = Open(NewData());

        var ex = await Assert.ThrowsAsync<ProjectKeyException>(() => store.GetPublicKeyAsync("nobody"));
        Assert.Equal(ProjectKeyError.NotFound, ex.Error);
        Assert.Null(await store.DestroyProjectKeyAsync("nobody"));
        foreach (var bad in new[] { "", "../x", "P1", "a/b", ".hidden", "-lead", new string('a', 65), "p1\0" })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => store.CreateProjectKeyAsync(bad));
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(store.KeysDirectory));
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    [Trait("Requirement", "SDR-3")]
    public async Task PrivateKey_DecryptsCrypt4ghFileEncryptedToTheProjectPublicKey()
    {
        var store = Open(NewData());
        var publicKey = await store.CreateProjectKeyAsync("p1");
        var plaintext = RandomData(200_000);
        var file = Encrypt(plaintext, publicKey);

        var decrypted = await store.UsePrivateKeyAsync("p1", key => Decrypt(file, key));
        var decryptedAsync = await store.UsePrivateKeyAsync("p1", async key =>
        {
            using var output = new MemoryStream();
            await Crypt4ghFile.DecryptAsync(new MemoryStream(file), output, key);
            return output.ToArray();
        });

        Assert.Equal(plaintext, decrypted);
        Assert.Equal(plaintext, decryptedAsync);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task PrivateKey_IsErasedWhenTheCallbackReturns()
    {
        var store = Open(NewData());
        var publicKey = await store.CreateProjectKeyAsync("p1");
        var file = Encrypt(RandomData(100), publicKey);

        var escaped = await store.UsePrivateKeyAsync("p1", key => key);

        Assert.ThrowsAny<ObjectDisposedException>(() => Decrypt(file, escaped));
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    [Trait("Requirement", "SDR-3")]
    public async Task WrappedKey_NeverHoldsThePrivateKeyInTheClear()
    {
        var data = NewData();
        var store = Open(data);
        await store.CreateProjectKeyAsync("p1");

        // c4gh-v1 unencrypted key file: magic(7) | "none"(2+4) | "none"(2+4) | length(2) | secret(32)
        var secret = await store.UsePrivateKeyAsync("p1", key => key.ToKeyFileBytes()[21..53]);

        var blob = await File.ReadAllBytesAsync(KeyFile(data, "p1"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile(data, "p1")));
        foreach (var path in Directory.EnumerateFiles(data.Path, "*", SearchOption.AllDirectories))
        {
            Assert.False(Contains(await File.ReadAllBytesAsync(path), secret), $"{path} holds the private key in the clear");
        }

        Assert.True(blob.Length < 200);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    [Trait("Requirement", "SDR-3")]
    public async Task TwoProjects_HaveDistinctKeys_AndCannotReadEachOthersData()
    {
        var store = Open(NewData());
        var k1 = await store.CreateProjectKeyAsync("p1");
        var k2 = await store.CreateProjectKeyAsync("p2");
        var fileFor1 = Encrypt(RandomData(1000), k1);

        Assert.NotEqual(k1, k2);
        var ex = await Assert.ThrowsAsync<Crypt4ghException>(() => store.UsePrivateKeyAsync("p2", key => Decrypt(fileFor1, key)));
        Assert.Equal(Crypt4ghErrorKind.NoMatchingKey, ex.Kind);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task WrappedKeySwappedBetweenProjects_FailsToUnwrap()
    {
        var data = NewData();
        var store = Open(data);
        await store.CreateProjectKeyAsync("p1");
        await store.CreateProjectKeyAsync("p2");

        File.Copy(KeyFile(data, "p1"), KeyFile(data, "p2"), overwrite: true);

        var use = await Assert.ThrowsAsync<ProjectKeyException>(() => store.UsePrivateKeyAsync("p2", key => 0));
        Assert.Equal(ProjectKeyError.UnwrapFailed, use.Error);
        // The public key is authenticated too: p2 must not hand out p1's public key.
        var get = await Assert.ThrowsAsync<ProjectKeyException>(() => store.GetPublicKeyAsync("p2"));
        Assert.Equal(ProjectKeyError.UnwrapFailed, get.Error);
        Assert.NotNull(await store.GetPublicKeyAsync("p1"));
    }

    [Theory]
    [Trait("Requirement", "TIR-8")]
    [InlineData(-1)] // last byte of the tag
    [InlineData(-40)] // ciphertext
    [InlineData(-60)] // nonce
    [InlineData(-80)] // public key
    public async Task TamperedWrappedKey_FailsClosed(int offsetFromEnd)
    {
        var data = NewData();
        var store = Open(data);
        await store.CreateProjectKeyAsync("p1");
        var path = KeyFile(data, "p1");
        var blob = await File.ReadAllBytesAsync(path);

        blob[blob.Length + offsetFromEnd] ^= 0x01;
        await File.WriteAllBytesAsync(path, blob);

        var ex = await Assert.ThrowsAsync<ProjectKeyException>(() => store.UsePrivateKeyAsync("p1", key => 0));
        Assert.Equal(ProjectKeyError.UnwrapFailed, ex.Error);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task TruncatedWrappedKey_IsReportedCorrupt()
    {
        var data = NewData();
        var store = Open(data);
        await store.CreateProjectKeyAsync("p1");
        var path = KeyFile(data, "p1");
        await File.WriteAllBytesAsync(path, (await File.ReadAllBytesAsync(path))[..40]);

        var ex = await Assert.ThrowsAsync<ProjectKeyException>(() => store.GetPublicKeyAsync("p1"));

        Assert.Equal(ProjectKeyError.Corrupt, ex.Error);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task WrongMasterKey_FailsClosed()
    {
        var data = NewData();
        var store = Open(data);
        var publicKey = await store.CreateProjectKeyAsync("p1");
        var file = Encrypt(RandomData(1000), publicKey);
        var other = NewData("other");
        Directory.CreateDirectory(other.File(WrappedKeyStore.KeysFolder));
        File.Copy(KeyFile(data, "p1"), KeyFile(other, "p1"));

        // Both stores open at once, as two installations would be: the other store's master key has the same name and
        // version but other bits, so only the decryption itself can refuse the blob.
        var foreign = Track(CreateStoreWithOtherMasterKey(other));

        var use = await Assert.ThrowsAsync<ProjectKeyException>(() => foreign.UsePrivateKeyAsync("p1", key => Decrypt(file, key)));
        var read = await Assert.ThrowsAsync<ProjectKeyException>(() => foreign.GetPublicKeyAsync("p1"));
        var rotation = await Assert.ThrowsAsync<ProjectKeyException>(() => foreign.RotateMasterKeyAsync());
        Assert.All([use, read, rotation], e => Assert.Equal(ProjectKeyError.UnwrapFailed, e.Error));
        foreign.Dispose();
        Assert.Equal(publicKey, await store.GetPublicKeyAsync("p1"));
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    [Trait("Requirement", "SDR-3")]
    public async Task RotateMasterKey_RewrapsEveryProjectKey_WithoutTouchingData()
    {
        var data = NewData();
        var store = Open(data);
        var plaintexts = new Dictionary<string, byte[]>();
        var files = new Dictionary<string, byte[]>();
        foreach (var project in new[] { "p1", "p2", "p3" })
        {
            var publicKey = await store.CreateProjectKeyAsync(project);
            plaintexts[project] = RandomData(70_000);
            files[project] = Encrypt(plaintexts[project], publicKey);
        }

        var before = await File.ReadAllBytesAsync(KeyFile(data, "p1"));
        var beforeKey = await store.GetPublicKeyAsync("p1");

        var rotation = await store.RotateMasterKeyAsync();

        Assert.Equal(3, rotation.ProjectKeysRewrapped);
        Assert.NotEmpty(rotation.RetiredMasterKeyIds);
        Assert.DoesNotContain(rotation.NewMasterKeyId, rotation.RetiredMasterKeyIds);
        Assert.NotEqual(before, await File.ReadAllBytesAsync(KeyFile(data, "p1")));
        store.Dispose();
        var reopened = Open(data);
        Assert.Equal(beforeKey, await reopened.GetPublicKeyAsync("p1"));
        foreach (var project in plaintexts.Keys)
        {
            Assert.Equal(plaintexts[project], await reopened.UsePrivateKeyAsync(project, key => Decrypt(files[project], key)));
        }

        // The old master key is gone: the key as wrapped before the rotation no longer opens.
        await File.WriteAllBytesAsync(KeyFile(data, "p1"), before);
        var ex = await Assert.ThrowsAsync<ProjectKeyException>(() => reopened.UsePrivateKeyAsync("p1", key => 0));
        Assert.Equal(ProjectKeyError.MasterKeyUnavailable, ex.Error);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task RotateMasterKey_Twice_KeepsKeysUsable_AndNewKeysUseTheNewMasterKey()
    {
        var data = NewData();
        var store = Open(data);
        var k1 = await store.CreateProjectKeyAsync("p1");
        var first = await store.RotateMasterKeyAsync();
        var k2 = await store.CreateProjectKeyAsync("p2");

        var second = await store.RotateMasterKeyAsync();

        Assert.Equal(2, second.ProjectKeysRewrapped);
        Assert.Contains(first.NewMasterKeyId, second.RetiredMasterKeyIds);
        Assert.Equal(k1, await store.GetPublicKeyAsync("p1"));
        Assert.Equal(k2, await store.GetPublicKeyAsync("p2"));
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task UsesDuringARotation_AllSucceed()
    {
        var store = Open(NewData());
        var publicKey = await store.CreateProjectKeyAsync("p1");
        var plaintext = RandomData(1000);
        var file = Encrypt(plaintext, publicKey);

        var uses = Enumerable.Range(0, 40).Select(_ => Task.Run(() => store.UsePrivateKeyAsync("p1", key => Decrypt(file, key)))).ToList();
        var rotations = Enumerable.Range(0, 3).Select(_ => Task.Run(() => store.RotateMasterKeyAsync())).ToList();

        Assert.All(await Task.WhenAll(uses), decrypted => Assert.Equal(plaintext, decrypted));
        await Task.WhenAll(rotations);
        Assert.Equal(publicKey, await store.GetPublicKeyAsync("p1"));
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    [Trait("Requirement", "SDR-3")]
    [Trait("Requirement", "OPR-22")]
    public async Task DestroyProjectKey_MakesItsEncryptedDataUnreadable()
    {
        var data = NewData();
        var time = new FakeTimeProvider(new DateTimeOffset(2027, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var store = Open(data, time);
        var publicKey = await store.CreateProjectKeyAsync("p1");
        var survivor = await store.CreateProjectKeyAsync("p2");
        var plaintext = RandomData(100_000);
        var file = Encrypt(plaintext, publicKey);
        Assert.Equal(plaintext, await store.UsePrivateKeyAsync("p1", key => Decrypt(file, key)));

        var destruction = await store.DestroyProjectKeyAsync("p1");

        Assert.NotNull(destruction);
        Assert.Equal("p1", destruction.ProjectId);
        Assert.Equal(publicKey.Fingerprint, destruction.KeyFingerprint);
        Assert.Equal(store.Backend, destruction.Backend);
        Assert.Equal(time.GetUtcNow(), destruction.DestroyedAt);
        Assert.False(await store.ExistsAsync("p1"));
        Assert.False(File.Exists(KeyFile(data, "p1")));
        var ex = await Assert.ThrowsAsync<ProjectKeyException>(() => store.UsePrivateKeyAsync("p1", key => Decrypt(file, key)));
        Assert.Equal(ProjectKeyError.NotFound, ex.Error);
        // A fresh store (as after a restart) cannot read it either, and a new key for the id is a different key.
        store.Dispose();
        var reopened = Open(data);
        await Assert.ThrowsAsync<ProjectKeyException>(() => reopened.UsePrivateKeyAsync("p1", key => Decrypt(file, key)));
        var recreated = await reopened.CreateProjectKeyAsync("p1");
        Assert.NotEqual(publicKey, recreated);
        var wrongKey = await Assert.ThrowsAsync<Crypt4ghException>(() => reopened.UsePrivateKeyAsync("p1", key => Decrypt(file, key)));
        Assert.Equal(Crypt4ghErrorKind.NoMatchingKey, wrongKey.Kind);
        Assert.Equal(survivor, await reopened.GetPublicKeyAsync("p2"));
        Assert.Null(await reopened.DestroyProjectKeyAsync("p3"));
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    [Trait("Requirement", "OPR-22")]
    public async Task DestroyThenRotate_LeavesABackupOfTheWrappedKeyUseless()
    {
        var data = NewData();
        var store = Open(data);
        var publicKey = await store.CreateProjectKeyAsync("p1");
        await store.CreateProjectKeyAsync("p2");
        var file = Encrypt(RandomData(1000), publicKey);
        var backup = await File.ReadAllBytesAsync(KeyFile(data, "p1"));

        await store.DestroyProjectKeyAsync("p1");
        await store.RotateMasterKeyAsync();
        await File.WriteAllBytesAsync(KeyFile(data, "p1"), backup);

        var ex = await Assert.ThrowsAsync<ProjectKeyException>(() => store.UsePrivateKeyAsync("p1", key => Decrypt(file, key)));
        Assert.Equal(ProjectKeyError.MasterKeyUnavailable, ex.Error);
    }

    [Fact]
    [Trait("Requirement", "OPR-22")]
    [Trait("Requirement", "SDR-3")]
    public async Task EraseProject_DestroysTheKeyAndDeletesTheProjectsObjects()
    {
        var data = NewData();
        var time = new FakeTimeProvider(new DateTimeOffset(2027, 5, 1, 8, 0, 0, TimeSpan.Zero));
        var store = Open(data, time);
        var objects = new FileSystemObjectStore(data.File("objects"));
        var eraser = new ProjectDataEraser(store, objects, time, NullLogger<ProjectDataEraser>.Instance);
        var publicKey = await store.CreateProjectKeyAsync("p1");
        await store.CreateProjectKeyAsync("p10");
        var first = Encrypt(RandomData(70_000), publicKey);
        var second = Encrypt(RandomData(10), publicKey);
        await objects.PutAsync("projects/p1/datasets/d1/a.c4gh", new MemoryStream(first));
        await objects.PutAsync("projects/p1/b.c4gh", new MemoryStream(second));
        await objects.PutAsync("projects/p10/keep.c4gh", new MemoryStream(RandomData(5)));
        await objects.PutAsync("other/keep", new MemoryStream(RandomData(5)));

        var erasure = await eraser.EraseProjectAsync("p1");

        Assert.Equal("p1", erasure.ProjectId);
        Assert.Equal("projects/p1/", erasure.ObjectPrefix);
        Assert.Equal(2, erasure.ObjectCount);
        Assert.Equal(first.Length + second.Length, erasure.Bytes);
        Assert.NotNull(erasure.Key);
        Assert.Equal(publicKey.Fingerprint, erasure.Key.KeyFingerprint);
        Assert.Equal(time.GetUtcNow(), erasure.CompletedAt);
        Assert.False(await store.ExistsAsync("p1"));
        Assert.Empty(await ToListAsync(objects.ListAsync("projects/p1/")));
        Assert.False(Directory.Exists(Path.Combine(objects.Root, "projects", "p1")));
        Assert.True(await store.ExistsAsync("p10"));
        Assert.Equal(["other/keep", "projects/p10/keep.c4gh"], (await ToListAsync(objects.ListAsync(""))).Select(e => e.Key));

        var again = await eraser.EraseProjectAsync("p1");
        Assert.Null(again.Key);
        Assert.Equal(0, again.ObjectCount);
    }

    public void Dispose()
    {
        foreach (var store in _opened)
        {
            store.Dispose();
        }

        _temp.Dispose();
        GC.SuppressFinalize(this);
    }

    protected static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
