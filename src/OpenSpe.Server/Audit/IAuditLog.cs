using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Audit;

/// <summary>The audit log as the rest of the server sees it: append, and know whether appends work.</summary>
internal interface IAuditLog
{
    /// <summary>True while the last write succeeded.</summary>
    bool IsHealthy { get; }

    /// <summary>
    /// Appends an entry and returns its sequence number once it is durable. Throws
    /// <see cref="AuditUnavailableException"/> when it could not be written: the caller must then
    /// not carry out what it was about to do.
    /// </summary>
    Task<long> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default);
}
