using OpenSpe.Crypt4gh;

namespace OpenSpe.Server.Vault;

/// <summary>
/// Project key pairs under a key-management system (TIR-8). Each project has one X25519
/// (Crypt4GH) key pair; the private key is stored only wrapped by a master key that the
/// backend holds (a local keyring or a PKCS#11 HSM) and is unwrapped in memory only for the
/// duration of a <see cref="UsePrivateKeyAsync{T}(string, Func{Crypt4ghPrivateKey, T}, CancellationToken)"/> call.
/// </summary>
internal interface IProjectKeyStore
{
    /// <summary>The backend's name as configured (<c>local</c> or <c>pkcs11</c>).</summary>
    string Backend { get; }

    /// <summary>Generates the project's key pair, stores the private key wrapped, and returns the public key.</summary>
    /// <exception cref="ProjectKeyException"><see cref="ProjectKeyError.AlreadyExists"/> if the project has a key.</exception>
    Task<Crypt4ghPublicKey> CreateProjectKeyAsync(string projectId, CancellationToken cancellationToken = default);

    /// <summary>Project ids that have a key, in ordinal order.</summary>
    IReadOnlyList<string> ListProjects();

    /// <summary>True when the project has a key.</summary>
    Task<bool> ExistsAsync(string projectId, CancellationToken cancellationToken = default);

    /// <summary>The project's public key, authenticated against the wrapped private key (a swapped key file fails).</summary>
    /// <exception cref="ProjectKeyException"><see cref="ProjectKeyError.NotFound"/>, or the key fails to unwrap.</exception>
    Task<Crypt4ghPublicKey> GetPublicKeyAsync(string projectId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Unwraps the project's private key, passes it to <paramref name="use"/>, and erases it from
    /// memory as soon as <paramref name="use"/> returns. The key must not escape the callback.
    /// </summary>
    /// <exception cref="ProjectKeyException">The key does not exist or fails to unwrap (fail closed).</exception>
    Task<T> UsePrivateKeyAsync<T>(string projectId, Func<Crypt4ghPrivateKey, T> use, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="UsePrivateKeyAsync{T}(string, Func{Crypt4ghPrivateKey, T}, CancellationToken)"/>
    Task<T> UsePrivateKeyAsync<T>(string projectId, Func<Crypt4ghPrivateKey, Task<T>> use, CancellationToken cancellationToken = default);

    /// <summary>
    /// Crypto-shredding: destroys the project's wrapped private key, after which every file
    /// encrypted for the project is unreadable. Returns what was destroyed, or null when the
    /// project had no key. Copies of the wrapped key in backups stay sealed by the current
    /// master key; rotate the master key (<see cref="RotateMasterKeyAsync"/>) to make them
    /// unrecoverable as well.
    /// </summary>
    Task<ProjectKeyDestruction?> DestroyProjectKeyAsync(string projectId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a new master key, re-wraps every project key under it and destroys the old master
    /// key(s). Data is not touched: project key pairs stay the same.
    /// </summary>
    /// <exception cref="ProjectKeyException"><see cref="ProjectKeyError.RotationNotSupported"/> when the master key is managed outside the store.</exception>
    Task<MasterKeyRotation> RotateMasterKeyAsync(CancellationToken cancellationToken = default);
}

/// <summary>A destroyed project key, for the erasure certificate.</summary>
/// <param name="ProjectId">The project.</param>
/// <param name="KeyFingerprint">SHA-256 (hex) of the project's public key: the key's id.</param>
/// <param name="Backend">The key-management backend (<c>local</c> or <c>pkcs11</c>).</param>
/// <param name="MasterKeyId">The master key the destroyed private key was wrapped with.</param>
/// <param name="DestroyedAt">When the wrapped key was destroyed.</param>
internal sealed record ProjectKeyDestruction(string ProjectId, string KeyFingerprint, string Backend, string MasterKeyId, DateTimeOffset DestroyedAt);

/// <summary>The outcome of a master-key rotation.</summary>
/// <param name="NewMasterKeyId">The master key now in use.</param>
/// <param name="RetiredMasterKeyIds">The master keys destroyed by the rotation.</param>
/// <param name="ProjectKeysRewrapped">How many project keys were re-wrapped.</param>
/// <param name="RotatedAt">When the rotation completed.</param>
internal sealed record MasterKeyRotation(string NewMasterKeyId, IReadOnlyList<string> RetiredMasterKeyIds, int ProjectKeysRewrapped, DateTimeOffset RotatedAt);
