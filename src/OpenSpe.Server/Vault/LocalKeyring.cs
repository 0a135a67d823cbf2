using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Vault;

/// <summary>
/// The embedded key-management backend: project keys wrapped with AES-256-GCM under a 256-bit
/// master key that lives in <c>&lt;data&gt;/master.key</c> (0600) or, when the configured
/// environment variable is set, in that variable (base64). File master keys are versioned
/// (<c>v1</c>, <c>v2</c>, …) so a rotation can run, and survive a crash, with both present.
/// </summary>
internal sealed class LocalKeyring : WrappedKeyStore
{
    /// <summary>The master key file in the data directory.</summary>
    public const string MasterKeyFileName = "master.key";

    private const string FileHeader = "openspe-master-keys 1";
    private const int MasterKeySize = 32;
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly string _masterKeyPath;
    private readonly SortedDictionary<int, byte[]> _fileKeys = [];
    private readonly string? _environmentKeyId;
    private readonly byte[]? _environmentKey;

    /// <summary>Opens the keyring, creating <c>master.key</c> on first use unless the master key comes from the environment.</summary>
    /// <param name="data">The data directory.</param>
    /// <param name="masterKeyEnvironmentVariable">The variable that may hold the master key (base64 of 32 bytes); null to use only the file.</param>
    /// <param name="time">Clock for records.</param>
    /// <param name="logger">Logger (never given key material).</param>
    public LocalKeyring(DataDirectory data, string? masterKeyEnvironmentVariable, TimeProvider? time, ILogger<LocalKeyring> logger)
        : base(data, time ?? TimeProvider.System, logger)
    {
        _masterKeyPath = data.File(MasterKeyFileName);
        var fromEnvironment = string.IsNullOrEmpty(masterKeyEnvironmentVariable) ? null : Environment.GetEnvironmentVariable(masterKeyEnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            _environmentKey = DecodeEnvironmentKey(masterKeyEnvironmentVariable!, fromEnvironment);
            _environmentKeyId = EnvironmentKeyId(_environmentKey);
            return;
        }

        if (File.Exists(_masterKeyPath))
        {
            LoadMasterKeyFile();
        }
        else
        {
            _fileKeys[1] = RandomNumberGenerator.GetBytes(MasterKeySize);
            SaveMasterKeyFile();
            VaultLog.MasterKeyCreated(Logger, Backend, "v1");
        }
    }

    /// <inheritdoc/>
    public override string Backend => KeyManagementOptions.LocalBackend;

    /// <summary>True when the master key comes from the environment rather than <c>master.key</c>.</summary>
    public bool MasterKeyFromEnvironment => _environmentKey is not null;

    /// <inheritdoc/>
    protected override byte BackendTag => ProjectKeyBlob.LocalBackend;

    /// <inheritdoc/>
    protected override string CurrentMasterKeyId => _environmentKeyId ?? FileKeyId(_fileKeys.Keys.Max());

    /// <inheritdoc/>
    protected override byte[] Seal(string masterKeyId, byte[] nonce, ReadOnlySpan<byte> secret, byte[] associatedData)
    {
        using var aes = new AesGcm(MasterKey(masterKeyId), ProjectKeyBlob.TagSize);
        var sealedKey = new byte[ProjectKeyBlob.SealedSize];
        aes.Encrypt(nonce, secret, sealedKey.AsSpan(0, secret.Length), sealedKey.AsSpan(secret.Length), associatedData);
        return sealedKey;
    }

    /// <inheritdoc/>
    protected override bool TryOpen(string masterKeyId, byte[] nonce, byte[] sealedKey, byte[] associatedData, Span<byte> secret)
    {
        using var aes = new AesGcm(MasterKey(masterKeyId), ProjectKeyBlob.TagSize);
        var cipherLength = sealedKey.Length - ProjectKeyBlob.TagSize;
        try
        {
            aes.Decrypt(nonce, sealedKey.AsSpan(0, cipherLength), sealedKey.AsSpan(cipherLength), secret[..cipherLength], associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    protected override string CreateMasterKey()
    {
        if (_environmentKey is not null)
        {
            throw new ProjectKeyException(ProjectKeyError.RotationNotSupported,
                "The master key comes from the environment; to rotate it, move to master.key (unset the variable) or to a PKCS#11 HSM.");
        }

        var version = _fileKeys.Keys.Max() + 1;
        _fileKeys[version] = RandomNumberGenerator.GetBytes(MasterKeySize);
        SaveMasterKeyFile();
        VaultLog.MasterKeyCreated(Logger, Backend, FileKeyId(version));
        return FileKeyId(version);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> RetireMasterKeysExcept(string keepId)
    {
        var retired = _fileKeys.Where(k => FileKeyId(k.Key) != keepId).ToList();
        if (retired.Count == 0)
        {
            return [];
        }

        foreach (var (version, _) in retired)
        {
            _fileKeys.Remove(version);
        }

        SaveMasterKeyFile();
        foreach (var (_, key) in retired)
        {
            CryptographicOperations.ZeroMemory(key);
        }

        return [.. retired.Select(k => FileKeyId(k.Key))];
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        foreach (var key in _fileKeys.Values)
        {
            CryptographicOperations.ZeroMemory(key);
        }

        _fileKeys.Clear();
        if (_environmentKey is not null)
        {
            CryptographicOperations.ZeroMemory(_environmentKey);
        }
    }

    private static string FileKeyId(int version) => "v" + version.ToString(CultureInfo.InvariantCulture);

    /// <summary>The id of an environment master key: a one-way tag, so a different key is recognised as such without being revealed.</summary>
    private static string EnvironmentKeyId(byte[] key) =>
        "env-" + Convert.ToHexStringLower(HMACSHA256.HashData(key, "openspe master key id"u8))[..16];

    private static byte[] DecodeEnvironmentKey(string variable, string value)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(value.Trim());
        }
        catch (FormatException ex)
        {
            throw new SpeConfigurationException($"{variable} must be the base64 encoding of a 32-byte master key (e.g. `openssl rand -base64 32`).", ex);
        }

        if (key.Length != MasterKeySize)
        {
            CryptographicOperations.ZeroMemory(key);
            throw new SpeConfigurationException($"{variable} must hold a 32-byte master key, not {key.Length} bytes.");
        }

        return key;
    }

    private byte[] MasterKey(string masterKeyId)
    {
        if (_environmentKey is not null && masterKeyId == _environmentKeyId)
        {
            return _environmentKey;
        }

        if (_environmentKey is null && masterKeyId.StartsWith('v')
            && int.TryParse(masterKeyId.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            && _fileKeys.TryGetValue(version, out var key))
        {
            return key;
        }

        throw new ProjectKeyException(ProjectKeyError.MasterKeyUnavailable,
            $"The project key is wrapped with master key {masterKeyId}, which this keyring does not hold (retired by a rotation, or a different master key).");
    }

    private void LoadMasterKeyFile()
    {
        // Note: a master key others can read is a compromised master key; refuse it rather than use it.
        if ((File.GetUnixFileMode(_masterKeyPath) & GroupOrOther) != 0)
        {
            throw new SpeConfigurationException($"{_masterKeyPath} is readable by group or others; run `chmod 600 {_masterKeyPath}` and consider rotating the master key.");
        }

        var lines = File.ReadAllLines(_masterKeyPath);
        if (lines.Length < 2 || lines[0] != FileHeader)
        {
            throw new SpeConfigurationException($"{_masterKeyPath} is not an OpenSPE master key file.");
        }

        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var parts = line.Split(' ');
            byte[]? key = null;
            if (parts.Length != 2 || !parts[0].StartsWith('v')
                || !int.TryParse(parts[0].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1
                || !TryDecode(parts[1], out key) || key.Length != MasterKeySize || !_fileKeys.TryAdd(version, key))
            {
                throw new SpeConfigurationException($"{_masterKeyPath} is malformed (each line after the header is `v<N> <base64 of 32 bytes>`).");
            }
        }
    }

    private static bool TryDecode(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? key)
    {
        try
        {
            key = Convert.FromBase64String(text);
            return true;
        }
        catch (FormatException)
        {
            key = null;
            return false;
        }
    }

    private void SaveMasterKeyFile()
    {
        var text = new StringBuilder(FileHeader).Append('\n');
        foreach (var (version, key) in _fileKeys.Reverse())
        {
            text.Append(FileKeyId(version)).Append(' ').Append(Convert.ToBase64String(key)).Append('\n');
        }

        var bytes = Encoding.ASCII.GetBytes(text.ToString());
        try
        {
            // Note: not DataDirectory.WriteSecret, because a rotation must know the new master key is
            // durable (file and directory entry fsynced) before any project key is re-wrapped with it.
            DurableFiles.WriteAllBytesAtomic(_masterKeyPath, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }
}
