using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;
using OpenSpe.Server.Hosting;
using ISession = Net.Pkcs11Interop.HighLevelAPI.ISession;

namespace OpenSpe.Server.Vault;

/// <summary>
/// The HSM key-management backend: the master key is an AES-256 key generated inside a PKCS#11
/// token (sensitive, never extractable), labelled <c>&lt;KeyLabel&gt;-v&lt;N&gt;</c>; project keys are
/// sealed with CKM_AES_GCM by the token and the sealed blobs kept on disk like the local keyring's.
/// Rotation generates <c>v&lt;N+1&gt;</c> in the token, re-wraps, then destroys the older token keys.
/// </summary>
internal sealed partial class Pkcs11KeyStore : WrappedKeyStore
{
    private readonly Pkcs11Libraries.Lease _library;
    private readonly ISession _session;
    private readonly string _keyLabel;
    private readonly string _tokenLabel;
    private readonly SortedDictionary<int, IObjectHandle> _keys = [];

    /// <summary>Opens a read-write session on the token labelled <see cref="Pkcs11Options.TokenLabel"/> and logs in as its user.</summary>
    public Pkcs11KeyStore(DataDirectory data, Pkcs11Options options, TimeProvider? time, ILogger<Pkcs11KeyStore> logger)
        : base(data, time ?? TimeProvider.System, logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _keyLabel = options.KeyLabel;
        _tokenLabel = options.TokenLabel ?? throw new SpeConfigurationException("Vault:KeyManagement:Pkcs11:TokenLabel is required.");
        try
        {
            _library = Pkcs11Libraries.Acquire(options.Library);
        }
        catch (Exception ex) when (ex is Pkcs11Exception or UnmanagedException or DllNotFoundException)
        {
            throw new SpeConfigurationException($"The PKCS#11 library {options.Library} cannot be loaded: {ex.Message}", ex);
        }

        try
        {
            // Note: the slot is found by token label every time because a slot id changes when tokens are (re)initialised.
            var slot = _library.Library.GetSlotList(SlotsType.WithTokenPresent)
                .FirstOrDefault(s => s.GetTokenInfo().Label.Trim() == _tokenLabel)
                ?? throw new SpeConfigurationException($"No PKCS#11 token labelled '{_tokenLabel}' in {options.Library}.");
            _session = slot.OpenSession(SessionType.ReadWrite);
            Login(options.Pin ?? throw new SpeConfigurationException("Vault:KeyManagement:Pkcs11:Pin is required."));
            LoadKeys();
            if (_keys.Count == 0)
            {
                CreateMasterKey();
            }
        }
        catch
        {
            _session?.Dispose();
            _library.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public override string Backend => KeyManagementOptions.Pkcs11Backend;

    /// <summary>The labels of the wrapping keys in the token, oldest first.</summary>
    public IReadOnlyList<string> MasterKeyIds => [.. _keys.Keys.Select(Label)];

    /// <inheritdoc/>
    protected override byte BackendTag => ProjectKeyBlob.Pkcs11Backend;

    /// <inheritdoc/>
    protected override string CurrentMasterKeyId => Label(_keys.Keys.Max());

    /// <inheritdoc/>
    protected override byte[] Seal(string masterKeyId, byte[] nonce, ReadOnlySpan<byte> secret, byte[] associatedData)
    {
        var handle = Handle(masterKeyId);
        var plain = secret.ToArray();
        try
        {
            using var mechanism = GcmMechanism(nonce, associatedData);
            return _session.Encrypt(mechanism, handle, plain);
        }
        catch (Pkcs11Exception ex)
        {
            throw new ProjectKeyException(ProjectKeyError.BackendFailure, $"The HSM failed to wrap a project key ({ex.RV}).", ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <inheritdoc/>
    protected override bool TryOpen(string masterKeyId, byte[] nonce, byte[] sealedKey, byte[] associatedData, Span<byte> secret)
    {
        var handle = Handle(masterKeyId);
        byte[] plain;
        try
        {
            using var mechanism = GcmMechanism(nonce, associatedData);
            plain = _session.Decrypt(mechanism, handle, sealedKey);
        }
        catch (Pkcs11Exception ex) when (ex.RV is CKR.CKR_ENCRYPTED_DATA_INVALID or CKR.CKR_ENCRYPTED_DATA_LEN_RANGE or CKR.CKR_GENERAL_ERROR)
        {
            // SoftHSM2 2.6 reports a GCM tag mismatch as CKR_GENERAL_ERROR (checked); other HSMs as CKR_ENCRYPTED_DATA_INVALID.
            // Either way the answer is the same fail-closed UnwrapFailed.
            return false;
        }
        catch (Pkcs11Exception ex)
        {
            throw new ProjectKeyException(ProjectKeyError.BackendFailure, $"The HSM failed to unwrap a project key ({ex.RV}).", ex);
        }

        try
        {
            if (plain.Length != secret.Length)
            {
                return false;
            }

            plain.CopyTo(secret);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <inheritdoc/>
    protected override string CreateMasterKey()
    {
        var version = _keys.Count == 0 ? 1 : _keys.Keys.Max() + 1;
        var label = Label(version);
        var attributes = Pkcs11Libraries.Factories.ObjectAttributeFactory;
        List<IObjectAttribute> template =
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            attributes.Create(CKA.CKA_VALUE_LEN, 32UL),
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, true),
            // Note: sensitive and never extractable, so the master key cannot leave the HSM, not even wrapped.
            attributes.Create(CKA.CKA_SENSITIVE, true),
            attributes.Create(CKA.CKA_EXTRACTABLE, false),
            attributes.Create(CKA.CKA_ENCRYPT, true),
            attributes.Create(CKA.CKA_DECRYPT, true),
            attributes.Create(CKA.CKA_WRAP, false),
            attributes.Create(CKA.CKA_UNWRAP, false),
            attributes.Create(CKA.CKA_SIGN, false),
            attributes.Create(CKA.CKA_VERIFY, false),
            attributes.Create(CKA.CKA_DERIVE, false),
            attributes.Create(CKA.CKA_LABEL, label),
            attributes.Create(CKA.CKA_ID, Encoding.ASCII.GetBytes(label)),
        ];
        try
        {
            using var mechanism = Pkcs11Libraries.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
            _keys[version] = _session.GenerateKey(mechanism, template);
        }
        catch (Pkcs11Exception ex)
        {
            throw new ProjectKeyException(ProjectKeyError.BackendFailure, $"The HSM failed to generate a master key ({ex.RV}).", ex);
        }
        finally
        {
            foreach (var attribute in template)
            {
                attribute.Dispose();
            }
        }

        VaultLog.MasterKeyCreated(Logger, Backend, label);
        return label;
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> RetireMasterKeysExcept(string keepId)
    {
        var retired = new List<string>();
        foreach (var (version, handle) in _keys.Where(k => Label(k.Key) != keepId).ToList())
        {
            try
            {
                _session.DestroyObject(handle);
            }
            catch (Pkcs11Exception ex)
            {
                throw new ProjectKeyException(ProjectKeyError.BackendFailure, $"The HSM failed to destroy master key {Label(version)} ({ex.RV}).", ex);
            }

            _keys.Remove(version);
            retired.Add(Label(version));
        }

        return retired;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        // No C_Logout: login state belongs to the application, and another store in this process may
        // still use the token. Closing the last session logs the user out.
        _session.Dispose();
        _library.Dispose();
    }

    private static IMechanism GcmMechanism(byte[] nonce, byte[] associatedData)
    {
        var parameters = Pkcs11Libraries.Factories.MechanismParamsFactory.CreateCkGcmParams(nonce, (ulong)nonce.Length * 8, associatedData, ProjectKeyBlob.TagSize * 8);
        return Pkcs11Libraries.Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
    }

    private void Login(string pin)
    {
        try
        {
            _session.Login(CKU.CKU_USER, pin);
        }
        catch (Pkcs11Exception ex) when (ex.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
        {
            // Another store in this process logged in to the same token.
        }
        catch (Pkcs11Exception ex)
        {
            // Note: the PIN is never part of a message or a log line.
            throw new SpeConfigurationException($"Login to PKCS#11 token '{_tokenLabel}' failed ({ex.RV}); check Vault:KeyManagement:Pkcs11:Pin.", ex);
        }
    }

    private void LoadKeys()
    {
        var attributes = Pkcs11Libraries.Factories.ObjectAttributeFactory;
        List<IObjectAttribute> search =
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
            attributes.Create(CKA.CKA_TOKEN, true),
        ];
        // Note: no match timeout: a literal then at most nine digits cannot backtrack, and a wall-clock timeout can fire on a
        // loaded machine when the matching thread is descheduled.
        var pattern = new Regex("^" + Regex.Escape(_keyLabel) + "-v([1-9][0-9]{0,8})$", RegexOptions.CultureInvariant);
        foreach (var handle in _session.FindAllObjects(search))
        {
            var label = _session.GetAttributeValue(handle, [CKA.CKA_LABEL])[0].GetValueAsString();
            var match = pattern.Match(label ?? string.Empty);
            if (match.Success)
            {
                _keys[int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture)] = handle;
            }
        }

        foreach (var attribute in search)
        {
            attribute.Dispose();
        }
    }

    private IObjectHandle Handle(string masterKeyId)
    {
        var prefix = _keyLabel + "-v";
        if (masterKeyId.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(masterKeyId.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            && _keys.TryGetValue(version, out var handle))
        {
            return handle;
        }

        throw new ProjectKeyException(ProjectKeyError.MasterKeyUnavailable,
            $"The project key is wrapped with HSM key {masterKeyId}, which token '{_tokenLabel}' does not hold (retired by a rotation, or another token).");
    }

    private string Label(int version) => _keyLabel + "-v" + version.ToString(CultureInfo.InvariantCulture);
}
