namespace OpenSpe.Core.Access.Handlers;

/// <summary>
/// Nothing passes a halted project (OPR-20) but oversight reading its metadata; what passes registers as the project's work,
/// which a later halt cancels.
/// </summary>
public sealed class HaltHandler(IProjectHalts halts) : IAccessHandler
{
    /// <summary>The refusal of a halted project, also for a request a halt stops while it runs.</summary>
    // Built on each use (halted requests are rare): a static initializer runs once per process, so a change to it would
    // escape the mutation tests, which reuse one test process.
    public static AccessRefusal Refusal =>
        new(AccessRefusalKind.Halted, "halted", "This project is halted by an emergency stop. Nothing can be done until it is resumed.");

    /// <summary>The refusal when this instance cannot tell which halts are in force.</summary>
    public static AccessRefusal Unknown =>
        new(AccessRefusalKind.HaltStateUnknown, "halt-state-unknown",
            "This server cannot read the emergency halts in force, so it serves no project request. Try again shortly.");

    /// <summary>The refusal for a request that a halt stops (or that finds the halts unknown) while it runs.</summary>
    public static AccessRefusal RefusalFor(IProjectHalts halts)
    {
        ArgumentNullException.ThrowIfNull(halts);
        return halts.IsStale ? Unknown : Refusal;
    }

    /// <inheritdoc />
    public ValueTask<AccessRefusal?> HandleAsync(AccessContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var work = halts.TryBeginWork(context.Request.ProjectId);
        if (work is not null)
        {
            context.Work = work;
            return ValueTask.FromResult<AccessRefusal?>(null);
        }

        // Note: halts unknown here fail closed for everyone, oversight too: what it would read as "not halted" may be wrong.
        if (halts.IsStale)
        {
            return ValueTask.FromResult<AccessRefusal?>(Unknown);
        }

        // Note: the HDAB, operators and auditors still read a halted project's metadata (it says halted), because they must see
        // what they stopped; they reach no data, and members reach nothing at all.
        return ValueTask.FromResult(context.AsOversight ? null : Refusal);
    }
}
