using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Vault;

/// <summary>Which key-management backend holds the master key (TIR-8), and how to reach it.</summary>
internal sealed class KeyManagementOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Vault:KeyManagement";

    /// <summary>The embedded keyring (master key in the data directory or the environment).</summary>
    public const string LocalBackend = "local";

    /// <summary>A PKCS#11 HSM.</summary>
    public const string Pkcs11Backend = "pkcs11";

    /// <summary><c>local</c> (default) or <c>pkcs11</c>.</summary>
    public string Backend { get; set; } = LocalBackend;

    /// <summary>
    /// For <c>local</c>: the environment variable that, when set, holds the master key (base64 of
    /// 32 bytes) instead of <c>master.key</c>. Empty disables it.
    /// </summary>
    public string? MasterKeyEnvironmentVariable { get; set; } = "SPE_MASTER_KEY";

    /// <summary>For <c>pkcs11</c>: the HSM.</summary>
    public Pkcs11Options Pkcs11 { get; set; } = new();
}

/// <summary>The PKCS#11 token that holds the master key.</summary>
internal sealed class Pkcs11Options
{
    /// <summary>Path of the PKCS#11 module.</summary>
    public string Library { get; set; } = "/usr/lib/softhsm/libsofthsm2.so";

    /// <summary>Label of the token (the slot is found by it).</summary>
    public string? TokenLabel { get; set; }

    /// <summary>The token's user PIN (from configuration or <c>SPE__Vault__KeyManagement__Pkcs11__Pin</c>); never logged.</summary>
    public string? Pin { get; set; }

    /// <summary>Label prefix of the wrapping keys in the token; each version is <c>&lt;prefix&gt;-v&lt;N&gt;</c>.</summary>
    public string KeyLabel { get; set; } = "openspe-wrap";

    /// <summary>Describes the options without the PIN.</summary>
    public override string ToString() => $"Library={Library}, TokenLabel={TokenLabel}, KeyLabel={KeyLabel}, Pin={(string.IsNullOrEmpty(Pin) ? "(unset)" : "(set)")}";
}

/// <summary>Where objects are stored.</summary>
internal sealed class ObjectStoreOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Vault:ObjectStore";

    /// <summary>Root directory of the file-system store; default <c>&lt;data directory&gt;/objects</c>.</summary>
    public string? Root { get; set; }
}

/// <summary>Checks <see cref="KeyManagementOptions"/> at start, so a bad configuration stops the process with one clear line.</summary>
internal sealed partial class KeyManagementOptionsValidator : IValidateOptions<KeyManagementOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyManagementOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        switch (options.Backend)
        {
            case KeyManagementOptions.LocalBackend:
                if (!string.IsNullOrEmpty(options.MasterKeyEnvironmentVariable) && !EnvironmentName().IsMatch(options.MasterKeyEnvironmentVariable))
                {
                    failures.Add("Vault:KeyManagement:MasterKeyEnvironmentVariable must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*).");
                }

                break;
            case KeyManagementOptions.Pkcs11Backend:
                var pkcs11 = options.Pkcs11 ?? new Pkcs11Options();
                if (string.IsNullOrWhiteSpace(pkcs11.Library) || !Path.IsPathRooted(pkcs11.Library) || !File.Exists(pkcs11.Library))
                {
                    failures.Add($"Vault:KeyManagement:Pkcs11:Library must be the absolute path of an existing PKCS#11 module (got '{pkcs11.Library}').");
                }

                if (string.IsNullOrWhiteSpace(pkcs11.TokenLabel) || pkcs11.TokenLabel.Length > 32)
                {
                    failures.Add("Vault:KeyManagement:Pkcs11:TokenLabel is required (at most 32 characters).");
                }

                if (string.IsNullOrEmpty(pkcs11.Pin))
                {
                    failures.Add("Vault:KeyManagement:Pkcs11:Pin is required (set SPE__Vault__KeyManagement__Pkcs11__Pin).");
                }

                if (string.IsNullOrEmpty(pkcs11.KeyLabel) || !KeyLabel().IsMatch(pkcs11.KeyLabel))
                {
                    failures.Add("Vault:KeyManagement:Pkcs11:KeyLabel must be 1-40 characters of a-z, A-Z, 0-9, '.', '_' and '-'.");
                }

                break;
            default:
                failures.Add($"Vault:KeyManagement:Backend must be '{KeyManagementOptions.LocalBackend}' or '{KeyManagementOptions.Pkcs11Backend}'.");
                break;
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentName();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,40}$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyLabel();
}

/// <summary>Checks <see cref="ObjectStoreOptions"/> at start.</summary>
internal sealed class ObjectStoreOptionsValidator : IValidateOptions<ObjectStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, ObjectStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Root is not null && (options.Root.Length == 0 || !Path.IsPathRooted(options.Root))
            ? ValidateOptionsResult.Fail("Vault:ObjectStore:Root must be an absolute path (or unset for <data directory>/objects).")
            : ValidateOptionsResult.Success;
    }
}
