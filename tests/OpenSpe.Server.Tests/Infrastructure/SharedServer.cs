namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>One dev server shared by every test of a class (each test uses its own names), for classes whose tests do not need a fresh server.</summary>
public sealed class SharedServer : IAsyncLifetime
{
    public SpeTestServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await SpeTestServer.StartAsync();

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
