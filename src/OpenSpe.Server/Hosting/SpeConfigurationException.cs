namespace OpenSpe.Server.Hosting;

/// <summary>The configuration cannot work; the message is one line an operator can act on.</summary>
public sealed class SpeConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SpeConfigurationException()
    {
    }

    /// <summary>Creates the exception with its one-line reason.</summary>
    public SpeConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its one-line reason and cause.</summary>
    public SpeConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The first line of a message, for a one-line reason built from another exception's message.</summary>
    public static string FirstLine(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
