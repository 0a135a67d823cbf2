using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Audit;

/// <summary>
/// Told by the audit writer of each record it committed and each append that failed, on the appending caller's thread:
/// metrics and alert rules watch the log through this. Must be quick and must not throw.
/// </summary>
internal interface IAuditObserver
{
    /// <summary><paramref name="entry"/> is durable as record <paramref name="sequence"/>; the append took <paramref name="elapsed"/>.</summary>
    void Committed(AuditEntry entry, long sequence, TimeSpan elapsed);

    /// <summary><paramref name="entry"/> could not be written (its request was refused).</summary>
    void Failed(AuditEntry entry);
}
