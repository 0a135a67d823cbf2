namespace OpenSpe.Core.Access;

/// <summary>The emergency halts (OPR-20) as the access chain sees them.</summary>
public interface IProjectHalts
{
    /// <summary>Registers work of the project that a halt must stop; null when the project (or everything) is halted.</summary>
    IProjectWork? TryBeginWork(string projectId);

    /// <summary>
    /// True when this instance cannot tell which halts are in force (it has not read them recently); it then answers as if
    /// everything were halted.
    /// </summary>
    bool IsStale { get; }
}

/// <summary>Work of a project that a halt stops: dispose it when the work ends.</summary>
public interface IProjectWork : IDisposable
{
    /// <summary>Cancelled when the project or everything is halted.</summary>
    CancellationToken Halted { get; }
}
