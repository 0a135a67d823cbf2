namespace OpenSpe.Server.Audit;

/// <summary>An audit record could not be made durable; whatever asked for it must not go ahead (fail closed).</summary>
internal sealed class AuditUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AuditUnavailableException()
        : base("The audit log is not writable.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public AuditUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public AuditUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
