using System.Globalization;
using System.Text.RegularExpressions;
using OpenSpe.Core.Identity;

namespace OpenSpe.Core.Permits;

/// <summary>
/// Checks a permit document field by field and returns errors keyed by JSON path
/// (e.g. <c>datasets[1].id</c>), so the HDAB sees exactly what to fix.
/// </summary>
public static partial class PermitValidator
{
    /// <summary>An account as the validator reads it: its id (the one key people are compared by) and its roles.</summary>
    /// <param name="Id">The account id.</param>
    /// <param name="Roles">The account's roles.</param>
    public sealed record Account(string Id, IReadOnlyList<string> Roles);

    /// <summary>Account lookups the validator needs (existence, id and roles).</summary>
    public interface IAccounts
    {
        /// <summary>The named account, found as a sign-in finds it (so <c>RESEARCHER</c> is <c>researcher</c>), or null when it does not exist.</summary>
        Task<Account?> FindAsync(string username);

        /// <summary>True when an application (a confidential OAuth client) with this client id is registered.</summary>
        Task<bool> ApplicationExistsAsync(string clientId);
    }

    /// <summary>Returns the errors (empty when valid).</summary>
    /// <param name="permit">The document.</param>
    /// <param name="accounts">Account and application lookups.</param>
    /// <param name="now">The time of issue or amendment: the permit must still be valid after it.</param>
    /// <param name="officer">Account name of the HDAB officer issuing or amending it: they can never be named in it.</param>
    public static async Task<Dictionary<string, string[]>> ValidateAsync(PermitDocument permit, IAccounts accounts, DateTimeOffset now, string? officer = null)
    {
        ArgumentNullException.ThrowIfNull(permit);
        ArgumentNullException.ThrowIfNull(accounts);
        var errors = new Errors();
        // Note: people are compared by account id, never by the name as typed, because a name spelt in another case signs in as the
        // same account: the officer named in their own permit, or one person listed twice, must be found whatever the spelling.
        var officerId = string.IsNullOrEmpty(officer) ? null : (await accounts.FindAsync(officer))?.Id;
        Text(errors, "reference", permit.Reference, 3, 64, ReferencePattern());
        Text(errors, "title", permit.Title, 3, 300);
        Text(errors, "legalBasis", permit.LegalBasis, 3, 300);
        if (!PermitDefaults.Purposes.Contains(permit.Purpose))
        {
            errors.Add("purpose", $"purpose must be one of: {string.Join(", ", PermitDefaults.Purposes)}.");
        }

        if (permit.ValidFrom >= permit.ValidUntil)
        {
            errors.Add("validUntil", "validUntil must be after validFrom.");
        }

        if (permit.ValidUntil <= now)
        {
            // Note: refused rather than issued already over, because such a permit would be terminated at once and its project erased.
            errors.Add("validUntil", "validUntil must be in the future: a permit cannot be issued or amended to end before now.");
        }

        if (permit.Datasets is not { Count: > 0 and <= 100 })
        {
            errors.Add("datasets", "A permit names between 1 and 100 datasets.");
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < permit.Datasets.Count; i++)
            {
                var dataset = permit.Datasets[i];
                var path = $"datasets[{i}]";
                Text(errors, path + ".id", dataset.Id, 1, 64, IdPattern());
                Text(errors, path + ".title", dataset.Title, 1, 300);
                if (dataset.Description is { Length: > 2000 })
                {
                    errors.Add(path + ".description", "description must be at most 2000 characters.");
                }

                if (dataset.Id is not null && !seen.Add(dataset.Id))
                {
                    errors.Add(path + ".id", $"dataset '{dataset.Id}' is listed twice.");
                }

                if (dataset.Node is not null)
                {
                    // Note: a dataset another node holds names a holder account of that node, which only that node can check
                    // (it does when it imports the permit); here only the names' shapes are checked.
                    if (!Federation.FederationNames.IsValid(dataset.Node))
                    {
                        errors.Add(path + ".node", "node must be a federation node name (lower-case letters, digits, dots and hyphens).");
                    }

                    Text(errors, path + ".holder", dataset.Holder, 1, 256);
                    continue;
                }

                var holder = string.IsNullOrEmpty(dataset.Holder) ? null : await accounts.FindAsync(dataset.Holder);
                var roles = holder?.Roles;
                if (roles is null)
                {
                    errors.Add(path + ".holder", $"there is no account '{dataset.Holder}'.");
                }
                else if (officerId is not null && string.Equals(holder!.Id, officerId, StringComparison.Ordinal))
                {
                    // Note: the officer who issues or amends a permit is never one of its holders (separation of duties, SDR-2).
                    errors.Add(path + ".holder", "the HDAB officer issuing or amending a permit cannot be one of its data holders.");
                }
                else if (!roles.Contains(SpeRoles.DataHolder))
                {
                    errors.Add(path + ".holder", $"'{dataset.Holder}' is not a data holder.");
                }
            }
        }

        await ValidateUsersAsync(permit, accounts, officerId, errors);
        ValidatePolicies(permit.Policies, errors);
        return errors.ToDictionary();
    }

    private static async Task ValidateUsersAsync(PermitDocument permit, IAccounts accounts, string? officerId, Errors errors)
    {
        if (permit.DataUsers is not { Count: > 0 and <= 200 })
        {
            errors.Add("dataUsers", "A permit names between 1 and 200 data users.");
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < permit.DataUsers.Count; i++)
        {
            var user = permit.DataUsers[i];
            var path = $"dataUsers[{i}]";
            var kinds = (user.Account is not null ? 1 : 0) + (user.Issuer is not null || user.Subject is not null ? 1 : 0) + (user.Application is not null ? 1 : 0);
            if (kinds != 1)
            {
                errors.Add(path, "name exactly one of: a local account, an external identity with issuer and subject, or an application.");
                continue;
            }

            string key;
            if (user.Application is not null)
            {
                key = "application:" + user.Application;
                if (!await accounts.ApplicationExistsAsync(user.Application))
                {
                    errors.Add(path + ".application", $"there is no registered application '{user.Application}'.");
                }
            }
            else if (user.Account is not null)
            {
                var account = await accounts.FindAsync(user.Account);
                // An account that does not exist is refused at its field; its key is the name, so it is not also a duplicate of a real one.
                key = account is null ? "missing-account:" + user.Account : "account:" + account.Id;
                var roles = account?.Roles;
                if (roles is null)
                {
                    errors.Add(path + ".account", $"there is no account '{user.Account}'.");
                }
                else if (officerId is not null && string.Equals(account!.Id, officerId, StringComparison.Ordinal))
                {
                    // Note: the officer who issues or amends a permit is never one of its data users (separation of duties, SDR-2).
                    errors.Add(path + ".account", "the HDAB officer issuing or amending a permit cannot be one of its data users.");
                }
                else if (roles.FirstOrDefault(r => SeparationOfDuties.Between(r, SpeRoles.Researcher) is not null) is { } conflicting)
                {
                    errors.Add(path + ".account", $"'{user.Account}' holds '{conflicting}', which no data user may hold (separation of duties).");
                }
            }
            else
            {
                if (!Uri.TryCreate(user.Issuer, UriKind.Absolute, out var issuer) || issuer.Scheme != Uri.UriSchemeHttps || user.Issuer!.Length > 500)
                {
                    errors.Add(path + ".issuer", "issuer must be an https URL.");
                }

                Text(errors, path + ".subject", user.Subject, 1, 255);
                key = "external:" + user.Issuer + "|" + user.Subject;
            }

            if (user.Name is { Length: > 200 })
            {
                errors.Add(path + ".name", "name must be at most 200 characters.");
            }

            if (!seen.Add(key))
            {
                errors.Add(path, "this data user is listed twice.");
            }
        }
    }

    private static void ValidatePolicies(PermitPolicies? policies, Errors errors)
    {
        if (policies is null)
        {
            return;
        }

        foreach (var (kind, i) in (policies.WorkspaceKinds ?? []).Select((k, i) => (k, i)))
        {
            if (!PermitDefaults.WorkspaceKinds.Contains(kind))
            {
                errors.Add($"policies.workspaceKinds[{i}]", $"workspace kind must be one of: {string.Join(", ", PermitDefaults.WorkspaceKinds)}.");
            }
        }

        Range(errors, "policies.idleTimeoutMinutes", policies.IdleTimeoutMinutes, 1, 480);
        if (policies.Clipboard is not null && !PermitDefaults.ClipboardModes.Contains(policies.Clipboard))
        {
            errors.Add("policies.clipboard", "clipboard must be none, in, out or both.");
        }

        Extensions(errors, "policies.fileTypes.upload", policies.FileTypes?.Upload);
        Extensions(errors, "policies.fileTypes.import", policies.FileTypes?.Import);
        Extensions(errors, "policies.fileTypes.export", policies.FileTypes?.Export);
        if (policies.Airlock is { } a)
        {
            Range(errors, "policies.airlock.reviewersRequired", a.ReviewersRequired, 1, 5);
            Range(errors, "policies.airlock.threshold", a.Threshold, 1, 1000);
            Range(errors, "policies.airlock.dominanceN", a.DominanceN, 1, 10);
            Range(errors, "policies.airlock.dominanceK", a.DominanceK, 0.5, 1.0);
            Range(errors, "policies.airlock.pPercent", a.PPercent, 0.0, 1.0);
            Range(errors, "policies.airlock.kAnonymity", a.KAnonymity, 2, 1000);
            Range(errors, "policies.airlock.lDiversity", a.LDiversity, 1, 100);
            Range(errors, "policies.airlock.minResidualDf", a.MinResidualDf, 1, 1000);
        }

        foreach (var (component, i) in (policies.ApprovedComponents ?? []).Select((c, i) => (c, i)))
        {
            Text(errors, $"policies.approvedComponents[{i}].name", component.Name, 1, 100);
            Text(errors, $"policies.approvedComponents[{i}].version", component.Version, 1, 50);
            if (component.Sha256 is null || !Sha256Pattern().IsMatch(component.Sha256))
            {
                errors.Add($"policies.approvedComponents[{i}].sha256", "sha256 must be 64 lower-case hex digits.");
            }
        }

        if (policies.PrivacyBudget is { } b)
        {
            if (!(b.Epsilon > 0 && b.Epsilon <= 100))
            {
                errors.Add("policies.privacyBudget.epsilon", "epsilon must be greater than 0 and at most 100.");
            }

            Range(errors, "policies.privacyBudget.delta", b.Delta, 0.0, 1e-3);
        }
    }

    private static void Text(Errors errors, string path, string? value, int min, int max, Regex? pattern = null)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length < min || value.Length > max)
        {
            errors.Add(path, $"{Leaf(path)} must be {min} to {max} characters.");
        }
        else if (pattern is not null && !pattern.IsMatch(value))
        {
            errors.Add(path, $"{Leaf(path)} has characters that are not allowed.");
        }
    }

    private static void Range(Errors errors, string path, double? value, double min, double max)
    {
        if (value is { } v && (double.IsNaN(v) || v < min || v > max))
        {
            errors.Add(path, string.Create(CultureInfo.InvariantCulture, $"{Leaf(path)} must be between {min} and {max}."));
        }
    }

    private static void Extensions(Errors errors, string path, IReadOnlyList<string>? extensions)
    {
        foreach (var (extension, i) in (extensions ?? []).Select((e, i) => (e, i)))
        {
            if (extension is null || !ExtensionPattern().IsMatch(extension))
            {
                errors.Add($"{path}[{i}]", "file types are lower-case extensions without a dot, e.g. csv.");
            }
        }
    }

    private static string Leaf(string path) => path[(path.LastIndexOf('.') + 1)..];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
    private static partial Regex ReferencePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[a-f0-9]{64}$")]
    private static partial Regex Sha256Pattern();

    [GeneratedRegex("^[a-z0-9]{1,10}$")]
    private static partial Regex ExtensionPattern();

    private sealed class Errors
    {
        private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

        public void Add(string path, string message)
        {
            if (!_errors.TryGetValue(path, out var list))
            {
                _errors[path] = list = [];
            }

            list.Add(message);
        }

        public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }
}
