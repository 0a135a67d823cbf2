namespace OpenSpe.Server.Vault;

/// <summary>Why a key-management operation failed.</summary>
internal enum ProjectKeyError
{
    /// <summary>The project has no key (never created, or destroyed).</summary>
    NotFound = 1,

    /// <summary>The project already has a key.</summary>
    AlreadyExists,

    /// <summary>
    /// The wrapped key did not authenticate: it was altered, moved from another project, or the
    /// master key is not the one it was wrapped with.
    /// </summary>
    UnwrapFailed,

    /// <summary>The wrapped key names a master (wrapping) key this store does not hold, e.g. one retired by rotation.</summary>
    MasterKeyUnavailable,

    /// <summary>The stored key is not in a format this store understands.</summary>
    Corrupt,

    /// <summary>The master key is managed outside the store (for example an environment variable) and cannot be rotated by it.</summary>
    RotationNotSupported,

    /// <summary>The key-management backend (for example the HSM) failed.</summary>
    BackendFailure,
}

/// <summary>A key-management operation failed; <see cref="Error"/> says why. Messages never contain key material.</summary>
internal sealed class ProjectKeyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ProjectKeyException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ProjectKeyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ProjectKeyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with its reason.</summary>
    public ProjectKeyException(ProjectKeyError error, string message, Exception? innerException = null)
        : base(message, innerException) => Error = error;

    /// <summary>Why the operation failed.</summary>
    public ProjectKeyError Error { get; }
}
