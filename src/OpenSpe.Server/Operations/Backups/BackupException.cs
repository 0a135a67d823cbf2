namespace OpenSpe.Server.Operations.Backups;

/// <summary>A backup cannot be made, read or restored; the message says which piece or step and why.</summary>
public sealed class BackupException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BackupException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BackupException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public BackupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
