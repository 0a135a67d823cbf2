namespace OpenSpe.Disclosure.Descriptions;

/// <summary>A description or policy document that is not valid: the message names the field and what is wrong.</summary>
public sealed class DescriptionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DescriptionException()
    {
    }

    /// <summary>Creates the exception with a message that names the field.</summary>
    public DescriptionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the parser's error.</summary>
    public DescriptionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
