namespace OpenSpe.Server.Audit;

/// <summary>
/// The audit log in the database no longer contains a checkpoint this server signed (as recorded
/// outside the database) or that a witness file holds: it was truncated, emptied or rewritten, and
/// the server refuses to sign over it. The message is one line naming the checkpoint.
/// </summary>
public sealed class AuditLogRegressionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AuditLogRegressionException()
    {
    }

    /// <summary>Creates the exception with a one-line message.</summary>
    public AuditLogRegressionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public AuditLogRegressionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
