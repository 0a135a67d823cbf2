using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Tests.Permits;

/// <summary>In-memory accounts and applications for the permit validator: existence and roles only.</summary>
internal sealed class FakeAccounts : PermitValidator.IAccounts
{
    private readonly Dictionary<string, string[]> _roles = new(StringComparer.Ordinal);
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

    public Task<IReadOnlyList<string>?> RolesOfAsync(string username) =>
        Task.FromResult<IReadOnlyList<string>?>(_roles.TryGetValue(username, out var roles) ? roles : null);

    public Task<bool> ApplicationExistsAsync(string clientId) => Task.FromResult(_applications.Contains(clientId));
}
