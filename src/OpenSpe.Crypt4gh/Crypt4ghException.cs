namespace OpenSpe.Crypt4gh;

/// <summary>The reason a Crypt4GH operation failed.</summary>
public enum Crypt4ghErrorKind
{
    /// <summary>An error that fits no other kind.</summary>
    Unknown = 0,

    /// <summary>The input does not start with the magic bytes <c>crypt4gh</c>.</summary>
    BadMagic,

    /// <summary>The header declares a format version other than 1.</summary>
    UnsupportedVersion,

    /// <summary>The input ended inside the header, or a header packet is shorter than its structure needs.</summary>
    TruncatedHeader,

    /// <summary>A header field holds a value the format does not allow (a packet length out of range, say).</summary>
    MalformedHeader,

    /// <summary>The input ended inside a data segment: too few bytes remain to hold a nonce, a byte of data and a MAC.</summary>
    TruncatedSegment,

    /// <summary>A data segment failed to authenticate with every data key of the header: it was altered, truncated or belongs to another file.</summary>
    AuthenticationFailed,

    /// <summary>No header packet could be decrypted with the reader's private key, so no data key is known.</summary>
    NoMatchingKey,

    /// <summary>The header holds more than one data edit list for this reader.</summary>
    MultipleEditLists,

    /// <summary>The data encryption parameter packets use different data encryption methods.</summary>
    MixedDataEncryptionMethods,

    /// <summary>A decrypted header packet names a packet type or data encryption method this library does not implement.</summary>
    UnsupportedMethod,

    /// <summary>A data edit list is malformed (a length does not fit a signed 64-bit integer, say).</summary>
    InvalidEditList,

    /// <summary>A key file or key text is not a valid Crypt4GH key.</summary>
    BadKeyFile,

    /// <summary>A private key is locked with a key derivation function or cipher this library does not implement.</summary>
    UnsupportedKeyFormat,

    /// <summary>A private key is locked and no passphrase was supplied.</summary>
    PassphraseRequired,

    /// <summary>The passphrase does not unlock the private key.</summary>
    WrongPassphrase,
}

/// <summary>
/// Raised when Crypt4GH data or keys cannot be read, decrypted or authenticated.
/// <see cref="Kind"/> tells the reason; no unauthenticated plaintext is ever released before this is thrown.
/// </summary>
public sealed class Crypt4ghException : Exception
{
    /// <summary>Creates an exception of kind <see cref="Crypt4ghErrorKind.Unknown"/>.</summary>
    public Crypt4ghException()
        : this(Crypt4ghErrorKind.Unknown, "Crypt4GH operation failed.")
    {
    }

    /// <summary>Creates an exception of kind <see cref="Crypt4ghErrorKind.Unknown"/> with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public Crypt4ghException(string message)
        : this(Crypt4ghErrorKind.Unknown, message)
    {
    }

    /// <summary>Creates an exception of kind <see cref="Crypt4ghErrorKind.Unknown"/> with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying failure.</param>
    public Crypt4ghException(string message, Exception innerException)
        : this(Crypt4ghErrorKind.Unknown, message, innerException)
    {
    }

    /// <summary>Creates an exception of the given kind.</summary>
    /// <param name="kind">The reason for the failure.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public Crypt4ghException(Crypt4ghErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>The reason for the failure.</summary>
    public Crypt4ghErrorKind Kind { get; }
}
