using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>
/// The project public keys a backup encrypts each project's own files to (<c>projects/&lt;project&gt;/</c>): from the running
/// server's key store for a scheduled backup, or, for <c>spe backup create</c>, from a key store opened on a private copy of
/// the master key and the wrapped project keys in the backup's work folder.
/// </summary>
/// <remarks>
/// Note: the offline store works on a copy, never on the live <c>keys/</c> folder, because opening a key store tidies its
/// folder (stale temporary files are shredded), which must not race a running server writing a new project key.
/// </remarks>
internal sealed class BackupProjectKeys(DataDirectory directory, BackupSource source, string work, TimeProvider time) : IDisposable
{
    private readonly Dictionary<string, Crypt4ghPublicKey?> _keys = new(StringComparer.Ordinal);
    private WrappedKeyStore? _offline;

    /// <summary>The project's public key, or null when the project has no key (it was erased, or the folder names no project).</summary>
    /// <exception cref="BackupException">The project has a key that cannot be opened here.</exception>
    public async Task<Crypt4ghPublicKey?> PublicKeyAsync(string projectId, CancellationToken cancellationToken)
    {
        if (_keys.TryGetValue(projectId, out var known))
        {
            return known;
        }

        Crypt4ghPublicKey? key = null;
        if (ProjectIds.IsValid(projectId))
        {
            try
            {
                var store = source.ProjectKeys ?? OpenOffline(projectId);
                if (store is not null && await store.ExistsAsync(projectId, cancellationToken).ConfigureAwait(false))
                {
                    key = await store.GetPublicKeyAsync(projectId, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (ProjectKeyException ex)
            {
                // Note: refused rather than backed up in clear, because without the project key the file would be readable
                // by whoever holds the backup key, and no erasure could ever make it unreadable.
                throw new BackupException($"the key of project {projectId} cannot be opened to encrypt its files for the backup ({ex.Message}); "
                    + "an offline backup needs the server's key management: master.key in the data directory or SPE_MASTER_KEY, or --config naming the PKCS#11 token", ex);
            }
        }

        _keys[projectId] = key;
        return key;
    }

    /// <summary>A new file name in the work folder, for a project file's encrypted copy.</summary>
    public string WorkFile()
    {
        Directory.CreateDirectory(work, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return Path.Combine(work, "sealed-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
    }

    /// <summary>The offline store with the project's wrapped key copied in; null when the live directory has no key for it.</summary>
    private WrappedKeyStore? OpenOffline(string projectId)
    {
        var live = WrappedKeyStore.KeyPath(directory.File(WrappedKeyStore.KeysFolder), projectId);
        if (!File.Exists(live))
        {
            return null;
        }

        if (_offline is null)
        {
            var copy = DataDirectory.Open(work);
            var masterKey = directory.File(LocalKeyring.MasterKeyFileName);
            if (File.Exists(masterKey))
            {
                File.Copy(masterKey, copy.File(LocalKeyring.MasterKeyFileName));
            }

            var options = source.KeyManagement ?? new KeyManagementOptions();
            _offline = options.Backend == KeyManagementOptions.Pkcs11Backend
                ? new Pkcs11KeyStore(copy, options.Pkcs11, time, NullLogger<Pkcs11KeyStore>.Instance)
                : new LocalKeyring(copy, options.MasterKeyEnvironmentVariable, time, NullLogger<LocalKeyring>.Instance);
        }

        var target = WrappedKeyStore.KeyPath(_offline.KeysDirectory, projectId);
        try
        {
            File.Copy(live, target, overwrite: true);
        }
        catch (FileNotFoundException)
        {
            // Erased while we copied: nothing of it goes into the backup.
            return null;
        }

        return _offline;
    }

    public void Dispose() => _offline?.Dispose();
}
