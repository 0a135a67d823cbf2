using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Access;

/// <summary>What the chain has learnt so far about one request; each handler reads what earlier handlers set.</summary>
public sealed class AccessContext
{
    private readonly IProjectAccessSource? _source;
    private PermitDocument? _document;

    /// <summary>A context for <paramref name="request"/>, reading the permit's document through <paramref name="source"/> when a handler needs it.</summary>
    public AccessContext(AccessRequest request, IProjectAccessSource? source = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        Request = request;
        _source = source;
    }

    /// <summary>The request.</summary>
    public AccessRequest Request { get; }

    /// <summary>The declared action (set once the action handler passed).</summary>
    public ProjectAction Action => Request.Action ?? throw new InvalidOperationException("The action is not declared.");

    /// <summary>The project's permit (set by the membership handler).</summary>
    public ProjectPermit? Permit { get; set; }

    /// <summary>The principal's roles in the permit that count (set by the membership handler).</summary>
    public IReadOnlySet<string> MemberRoles { get; set; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>True when the caller passes only by an oversight role, for a metadata action (set by the membership handler).</summary>
    public bool AsOversight { get; set; }

    /// <summary>True when the caller passes as an independent reviewer (an output checker named in no role of the permit; set by the membership handler).</summary>
    public bool AsReviewer { get; set; }

    /// <summary>The project work the halt handler registered; null before it, or for oversight of a halted project.</summary>
    public IProjectWork? Work { get; set; }

    /// <summary>The permit's current document, read once per request.</summary>
    public async ValueTask<PermitDocument> DocumentAsync(CancellationToken cancellationToken)
    {
        if (_document is null)
        {
            var permit = Permit ?? throw new InvalidOperationException("The permit is not known yet.");
            var source = _source ?? throw new InvalidOperationException("No source to read the permit's document from.");
            _document = await source.DocumentAsync(permit, cancellationToken);
        }

        return _document;
    }

    /// <summary>A context for a narrower request of the same caller on the same project, keeping what the chain learnt.</summary>
    internal AccessContext Narrow(AccessRequest request) => new(request, _source)
    {
        Permit = Permit,
        MemberRoles = MemberRoles,
        AsOversight = AsOversight,
        AsReviewer = AsReviewer,
        _document = _document,
    };
}
