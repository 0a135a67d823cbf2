using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Vault;

/// <summary>
/// What both key-management backends share: wrapped project keys as files under
/// <c>&lt;data&gt;/keys/&lt;project id&gt;.key</c> (0600, written atomically), the unwrap-use-erase
/// discipline, destruction and the re-wrapping loop of a rotation. A backend supplies only the
/// master key: sealing and opening 32 bytes with AES-256-GCM, creating and retiring master keys.
/// </summary>
internal abstract class WrappedKeyStore : IProjectKeyStore, IDisposable
{
    /// <summary>The folder, inside the data directory, that holds wrapped project keys.</summary>
    public const string KeysFolder = "keys";

    private const string Extension = ".key";
    private const int MaxBlobSize = 1024;

    // Note: one gate for every operation that reads or writes a wrapped key, so a rotation never
    // retires a master key while another caller is between reading a blob and unwrapping it.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _disposed;

    protected WrappedKeyStore(DataDirectory data, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(data);
        Time = time ?? TimeProvider.System;
        Logger = logger;
        KeysDirectory = data.File(KeysFolder);
        DurableFiles.EnsureDirectory(KeysDirectory);
        RemoveStaleTemporaryFiles();
    }

    /// <inheritdoc/>
    public abstract string Backend { get; }

    /// <summary>The folder of wrapped keys.</summary>
    public string KeysDirectory { get; }

    protected TimeProvider Time { get; }

    protected ILogger Logger { get; }

    /// <summary>The backend's tag in a blob.</summary>
    protected abstract byte BackendTag { get; }

    /// <summary>The master key new wraps use.</summary>
    protected abstract string CurrentMasterKeyId { get; }

    /// <summary>The path of a project's wrapped key (the id is validated first).</summary>
    public static string KeyPath(string keysDirectory, string projectId)
    {
        ProjectIds.Validate(projectId);
        return Path.Combine(keysDirectory, projectId + Extension);
    }

    /// <inheritdoc/>
    public async Task<Crypt4ghPublicKey> CreateProjectKeyAsync(string projectId, CancellationToken cancellationToken = default)
    {
        var path = KeyPath(KeysDirectory, projectId);
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (File.Exists(path))
            {
                throw new ProjectKeyException(ProjectKeyError.AlreadyExists, $"Project {projectId} already has a key.");
            }

            var blob = WrapNew(projectId, out var publicKey);
            DurableFiles.WriteAllBytesAtomic(path, blob);
            VaultLog.ProjectKeyCreated(Logger, projectId, publicKey.Fingerprint, Backend, CurrentMasterKeyId);
            return publicKey;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public Task<bool> ExistsAsync(string projectId, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Task.FromResult(File.Exists(KeyPath(KeysDirectory, projectId)));
    }

    /// <inheritdoc/>
    public async Task<Crypt4ghPublicKey> GetPublicKeyAsync(string projectId, CancellationToken cancellationToken = default)
    {
        // Note: the public key is returned only after the wrapped private key authenticates, because
        // a blob swapped in from another project would otherwise hand data holders the wrong key.
        using var key = await UnwrapAsync(projectId, cancellationToken).ConfigureAwait(false);
        return key.PublicKey;
    }

    /// <inheritdoc/>
    public async Task<T> UsePrivateKeyAsync<T>(string projectId, Func<Crypt4ghPrivateKey, T> use, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(use);
        using var key = await UnwrapAsync(projectId, cancellationToken).ConfigureAwait(false);
        return use(key);
    }

    /// <inheritdoc/>
    public async Task<T> UsePrivateKeyAsync<T>(string projectId, Func<Crypt4ghPrivateKey, Task<T>> use, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(use);
        using var key = await UnwrapAsync(projectId, cancellationToken).ConfigureAwait(false);
        return await use(key).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<ProjectKeyDestruction?> DestroyProjectKeyAsync(string projectId, CancellationToken cancellationToken = default)
    {
        var path = KeyPath(KeysDirectory, projectId);
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            string fingerprint;
            string masterKeyId;
            try
            {
                var blob = ReadBlob(projectId, path);
                fingerprint = blob.Fingerprint;
                masterKeyId = blob.MasterKeyId;
            }
            catch (ProjectKeyException ex) when (ex.Error == ProjectKeyError.Corrupt)
            {
                // A damaged key is destroyed all the same; the certificate says it was unreadable.
                fingerprint = "unreadable";
                masterKeyId = "unreadable";
            }

            DurableFiles.Shred(path);
            var destroyedAt = Time.GetUtcNow();
            VaultLog.ProjectKeyDestroyed(Logger, projectId, fingerprint, Backend);
            return new ProjectKeyDestruction(projectId, fingerprint, Backend, masterKeyId, destroyedAt);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task<MasterKeyRotation> RotateMasterKeyAsync(CancellationToken cancellationToken = default)
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Order matters for crash safety: the new master key is durable before any blob uses it,
            // and old master keys are retired only after every blob has been re-wrapped. A crash in
            // between leaves both keys, and each blob names the one it needs.
            var newId = CreateMasterKey();
            var rewrapped = 0;
            foreach (var (projectId, path) in EnumerateKeyFiles())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var blob = ReadBlob(projectId, path);
                if (blob.MasterKeyId == newId && blob.BackendTag == BackendTag)
                {
                    continue;
                }

                DurableFiles.WriteAllBytesAtomic(path, Rewrap(projectId, blob));
                rewrapped++;
            }

            var retired = RetireMasterKeysExcept(newId);
            VaultLog.MasterKeyRotated(Logger, Backend, newId, string.Join(",", retired), rewrapped);
            return new MasterKeyRotation(newId, retired, rewrapped, Time.GetUtcNow());
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Project ids that have a key, in ordinal order.</summary>
    public IReadOnlyList<string> ListProjects() => [.. EnumerateKeyFiles().Select(f => f.ProjectId)];

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Dispose(disposing: true);
        _gate.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Seals a 32-byte secret with AES-256-GCM under master key <paramref name="masterKeyId"/>; returns ciphertext and tag (48 bytes).</summary>
    protected abstract byte[] Seal(string masterKeyId, byte[] nonce, ReadOnlySpan<byte> secret, byte[] associatedData);

    /// <summary>Opens a sealed secret; false when it does not authenticate.</summary>
    /// <exception cref="ProjectKeyException"><see cref="ProjectKeyError.MasterKeyUnavailable"/> when the master key is not held.</exception>
    protected abstract bool TryOpen(string masterKeyId, byte[] nonce, byte[] sealedKey, byte[] associatedData, Span<byte> secret);

    /// <summary>Creates a new master key, durably, and makes it current; returns its id.</summary>
    protected abstract string CreateMasterKey();

    /// <summary>Destroys every master key but <paramref name="keepId"/>; returns the ids destroyed.</summary>
    protected abstract IReadOnlyList<string> RetireMasterKeysExcept(string keepId);

    /// <summary>Releases the backend's resources.</summary>
    protected abstract void Dispose(bool disposing);

    private async Task EnterAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<Crypt4ghPrivateKey> UnwrapAsync(string projectId, CancellationToken cancellationToken)
    {
        var path = KeyPath(KeysDirectory, projectId);
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Unwrap(projectId, ReadBlob(projectId, path));
        }
        finally
        {
            _gate.Release();
        }
    }

    private static ProjectKeyBlob ReadBlob(string projectId, string path)
    {
        byte[] data;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            if (stream.Length > MaxBlobSize)
            {
                throw new ProjectKeyException(ProjectKeyError.Corrupt, $"The stored key of project {projectId} is too large to be a project key.");
            }

            data = new byte[stream.Length];
            stream.ReadExactly(data);
        }
        catch (FileNotFoundException ex)
        {
            throw new ProjectKeyException(ProjectKeyError.NotFound, $"Project {projectId} has no key.", ex);
        }

        return ProjectKeyBlob.Parse(data);
    }

    private byte[] WrapNew(string projectId, out Crypt4ghPublicKey publicKey)
    {
        Span<byte> secret = stackalloc byte[Crypt4ghPrivateKey.KeySize];
        try
        {
            // Any 32 random bytes are an X25519 private key (the scalar is clamped when used).
            RandomNumberGenerator.Fill(secret);
            using (var key = Crypt4ghPrivateKey.FromBytes(secret))
            {
                publicKey = key.PublicKey;
            }

            return Wrap(projectId, secret, publicKey.Bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private byte[] Rewrap(string projectId, ProjectKeyBlob blob)
    {
        Span<byte> secret = stackalloc byte[Crypt4ghPrivateKey.KeySize];
        try
        {
            OpenVerified(projectId, blob, secret).Dispose();
            return Wrap(projectId, secret, blob.PublicKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private Crypt4ghPrivateKey Unwrap(string projectId, ProjectKeyBlob blob)
    {
        Span<byte> secret = stackalloc byte[Crypt4ghPrivateKey.KeySize];
        try
        {
            return OpenVerified(projectId, blob, secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private byte[] Wrap(string projectId, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> publicKey)
    {
        var masterKeyId = CurrentMasterKeyId;
        var header = ProjectKeyBlob.EncodeHeader(BackendTag, masterKeyId, publicKey);
        var nonce = RandomNumberGenerator.GetBytes(ProjectKeyBlob.NonceSize);
        var sealedKey = Seal(masterKeyId, nonce, secret, ProjectKeyBlob.AssociatedData(projectId, header));
        if (sealedKey.Length != ProjectKeyBlob.SealedSize)
        {
            throw new ProjectKeyException(ProjectKeyError.BackendFailure, $"The {Backend} backend returned {sealedKey.Length} bytes for a wrapped key, not {ProjectKeyBlob.SealedSize}.");
        }

        return ProjectKeyBlob.Encode(header, nonce, sealedKey);
    }

    /// <summary>Opens <paramref name="blob"/> into <paramref name="secret"/> and checks that it is the private half of the stored public key.</summary>
    private Crypt4ghPrivateKey OpenVerified(string projectId, ProjectKeyBlob blob, Span<byte> secret)
    {
        if (blob.BackendTag != BackendTag)
        {
            throw new ProjectKeyException(ProjectKeyError.MasterKeyUnavailable,
                $"The key of project {projectId} was wrapped by the {ProjectKeyBlob.BackendName(blob.BackendTag)} backend, not by {Backend}.");
        }

        if (!TryOpen(blob.MasterKeyId, blob.Nonce, blob.SealedKey, ProjectKeyBlob.AssociatedData(projectId, blob.Header), secret))
        {
            // Note: fail closed with one error for every cause (tampering, a blob moved from another
            // project, a different master key) so the caller learns nothing it could use to probe.
            VaultLog.UnwrapFailed(Logger, projectId, Backend, blob.MasterKeyId);
            throw new ProjectKeyException(ProjectKeyError.UnwrapFailed, $"The key of project {projectId} does not unwrap: it was altered, belongs to another project, or the master key is not the one it was wrapped with.");
        }

        var key = Crypt4ghPrivateKey.FromBytes(secret);
        if (!CryptographicOperations.FixedTimeEquals(key.PublicKey.Bytes, blob.PublicKey))
        {
            key.Dispose();
            throw new ProjectKeyException(ProjectKeyError.Corrupt, $"The key of project {projectId} does not match its public key.");
        }

        return key;
    }

    private IEnumerable<(string ProjectId, string Path)> EnumerateKeyFiles() =>
        Directory.EnumerateFiles(KeysDirectory, "*" + Extension)
            .Select(path => (ProjectId: Path.GetFileNameWithoutExtension(path), Path: path))
            .Where(f => ProjectIds.IsValid(f.ProjectId))
            .OrderBy(f => f.ProjectId, StringComparer.Ordinal);

    private void RemoveStaleTemporaryFiles()
    {
        // A crash between writing and renaming leaves a temporary file that may hold a wrapped key.
        foreach (var stale in Directory.EnumerateFiles(KeysDirectory, DurableFiles.TemporaryPrefix + "*"))
        {
            try
            {
                DurableFiles.Shred(stale);
            }
            catch (IOException)
            {
                // Another process's write in progress; it renames or removes its own file.
            }
        }
    }
}
