using OpenSpe.Core.Access;
using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Tests.Access;

/// <summary>The SPE's records in memory: permits by project, whom each names (by account id or client id), documents, account ids by name.</summary>
internal sealed class FakeAccessSource : IProjectAccessSource
{
    private readonly Dictionary<string, ProjectPermit> _permits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PermitDocument> _documents = new(StringComparer.Ordinal);
    private readonly List<(string PermitId, string Key, string Role)> _named = [];
    private readonly Dictionary<string, string> _accounts = new(StringComparer.Ordinal);

    public int DocumentReads { get; private set; }

    public int AccountLookups { get; private set; }

    public FakeAccessSource Permit(ProjectPermit permit, PermitDocument document)
    {
        _permits[permit.ProjectId] = permit;
        _documents[permit.Id] = document;
        return this;
    }

    /// <summary>Names a person (by account id) or an application (by "app:" + client id) in a permit role.</summary>
    public FakeAccessSource Names(string permitId, string key, string role)
    {
        _named.Add((permitId, key, role));
        return this;
    }

    /// <summary>An account with a name and an id.</summary>
    public FakeAccessSource Account(string name, string id)
    {
        _accounts[name] = id;
        return this;
    }

    public Task<ProjectPermit?> FindPermitAsync(string projectId, CancellationToken cancellationToken) =>
        Task.FromResult(_permits.GetValueOrDefault(projectId));

    public Task<IReadOnlySet<string>> NamedRolesAsync(ProjectPermit permit, AccessPrincipal principal, CancellationToken cancellationToken)
    {
        var key = principal.IsApplication ? "app:" + principal.ClientId : principal.AccountId;
        return Task.FromResult<IReadOnlySet<string>>(_named.Where(n => n.PermitId == permit.Id && n.Key == key).Select(n => n.Role).ToHashSet(StringComparer.Ordinal));
    }

    public Task<PermitDocument> DocumentAsync(ProjectPermit permit, CancellationToken cancellationToken)
    {
        DocumentReads++;
        return Task.FromResult(_documents[permit.Id]);
    }

    public Task<IReadOnlyDictionary<string, string>> AccountIdsAsync(IReadOnlyCollection<string> accountNames, CancellationToken cancellationToken)
    {
        AccountLookups++;
        return Task.FromResult<IReadOnlyDictionary<string, string>>(accountNames.Where(_accounts.ContainsKey).ToDictionary(n => n, n => _accounts[n], StringComparer.Ordinal));
    }
}

/// <summary>Halts in memory, counting the project work registered and not yet ended.</summary>
internal sealed class FakeHalts : IProjectHalts, IDisposable
{
    private readonly HashSet<string> _halted = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _halt = new();

    public int Open { get; private set; }

    public int Begun { get; private set; }

    /// <summary>True to play an instance that cannot read the halts in force.</summary>
    public bool IsStale { get; set; }

    public void Halt(string projectId) => _halted.Add(projectId);

    public void Dispose() => _halt.Dispose();

    /// <summary>Cancels the work already registered, as a halt does.</summary>
    public void CancelRunningWork() => _halt.Cancel();

    public IProjectWork? TryBeginWork(string projectId)
    {
        // As the registry does: halts unknown count as everything halted.
        if (IsStale || _halted.Contains(projectId))
        {
            return null;
        }

        Open++;
        Begun++;
        return new Work(this);
    }

    private sealed class Work(FakeHalts halts) : IProjectWork
    {
        private bool _ended;

        public CancellationToken Halted => halts._halt.Token;

        public void Dispose()
        {
            if (!_ended)
            {
                _ended = true;
                halts.Open--;
            }
        }
    }
}
