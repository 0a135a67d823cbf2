namespace OpenSpe.Cli.Client;

/// <summary>A client-side failure with a one-line message for the user; verbs print it as <c>spe: message</c> and exit 1.</summary>
internal class SpeClientException : Exception
{
    public SpeClientException()
    {
    }

    public SpeClientException(string message)
        : base(message)
    {
    }

    public SpeClientException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public virtual int ExitCode => ExitCodes.Failure;
}

/// <summary>The command line cannot work as given (missing input, conflicting options): exit 2, as parse errors do.</summary>
internal sealed class SpeUsageException : SpeClientException
{
    public SpeUsageException()
    {
    }

    public SpeUsageException(string message)
        : base(message)
    {
    }

    public SpeUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public override int ExitCode => ExitCodes.Usage;
}
