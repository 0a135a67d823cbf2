namespace OpenSpe.Cli.Client;

/// <summary>
/// What the client verbs take from the outside world: environment variables, the clock, the
/// user's keyboard and the network. <see cref="System"/> is the real one; tests build their own.
/// </summary>
internal sealed class ClientEnvironment
{
    public static ClientEnvironment System { get; } = new();

    public Func<string, string?> Variables { get; init; } = Environment.GetEnvironmentVariable;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public IUserInput Input { get; init; } = new ConsoleUserInput();

    /// <summary>Test seam: when set, replaces the TLS handler for every connection.</summary>
    public Func<Uri, HttpMessageHandler>? Handler { get; init; }

    public CredentialStore Store() => new(CredentialStore.ResolveDirectory(Variables));

    public ServerConnection Connect(Uri server, string? pin, TimeSpan? timeout = null) => new(server, pin, Handler?.Invoke(server), timeout);
}
