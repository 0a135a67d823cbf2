using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Tests.Permits;

/// <summary>
/// In-memory accounts and applications for the permit validator: existence, id and roles. Names are found in any case, as
/// Identity finds a sign-in name (normalized), and each account's id is its name as registered.
/// </summary>
internal sealed class FakeAccounts : PermitValidator.IAccounts
{
    private readonly Dictionary<string, string[]> _roles = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _applications = new(StringComparer.Ordinal);

    public FakeAccounts Account(string name, params string[] roles)
    {
        _roles[name] = roles;
        return this;
    }

    public FakeAccounts Application(string clientId)
    {
        _applications.Add(clientId);
        return this;
    }

    public Task<PermitValidator.Account?> FindAsync(string username) =>
        Task.FromResult(_roles.TryGetValue(username, out var roles)
            ? new PermitValidator.Account("id-" + _roles.Keys.First(k => string.Equals(k, username, StringComparison.OrdinalIgnoreCase)), roles)
            : null);

    public Task<bool> ApplicationExistsAsync(string clientId) => Task.FromResult(_applications.Contains(clientId));
}
