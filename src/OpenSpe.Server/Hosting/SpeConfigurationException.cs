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
}
