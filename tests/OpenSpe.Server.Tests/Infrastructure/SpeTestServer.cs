using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>
/// A real SPE server on a loopback port with real TLS, a real database and real tokens: the
/// pipeline under test is exactly the one `spe server` runs. Intent methods give clients
/// signed in as a role.
/// </summary>
public sealed class SpeTestServer : IAsyncDisposable
{
    private readonly TempDirectory? _directory;
    private readonly string _path;
    private bool _stopped;
    private readonly WebApplication _app;

    private SpeTestServer(TempDirectory? directory, string path, WebApplication app, SpeStartInfo info)
    {
        _directory = directory;
        _path = path;
        _app = app;
        Info = info;
        BaseAddress = new Uri(info.Urls[0]);
        Client = PinnedHttp.Create(BaseAddress, info.CertificateFingerprint);
    }

    public SpeStartInfo Info { get; }

    public Uri BaseAddress { get; }

    /// <summary>An anonymous client.</summary>
    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public string DataDirectory => _path;

    public SpeDatabase Database => Services.GetRequiredService<SpeDatabase>();

    /// <summary>Starts a server on <paramref name="backend"/> with extra settings; <paramref name="map"/> may add test-only endpoints.</summary>
    /// <remarks>
    /// <c>reuseDirectory</c> runs on an existing server directory (a restart); it is then not deleted on dispose.
    /// <c>services</c> may replace services after the host registered its own (e.g. a fake free-space probe).
    /// </remarks>
    public static async Task<SpeTestServer> StartAsync(TestBackend backend = TestBackend.Sqlite, IDictionary<string, string?>? settings = null, Action<WebApplication>? map = null, TimeProvider? time = null, string? reuseDirectory = null,
        Action<IServiceCollection>? services = null)
    {
        var directory = reuseDirectory is null ? new TempDirectory() : null;
        var path = reuseDirectory ?? directory!.Path;
        try
        {
            var values = new Dictionary<string, string?>
            {
                ["Server:Dev"] = "true",
                ["Server:DataDirectory"] = Path.Combine(path, "data"),
                ["Server:Urls"] = $"https://127.0.0.1:{FreePort()}",
                ["Database:ConnectionString"] = await TestDatabases.CreateAsync(backend, Path.Combine(path, "data")),
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                values[key] = value;
            }

            var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
            var app = SpeHost.Build(configuration, registered =>
            {
                if (time is not null)
                {
                    registered.AddSingleton(time);
                }

                services?.Invoke(registered);
            });
            map?.Invoke(app);
            var info = await SpeHost.StartAsync(app);
            return new SpeTestServer(directory, path, app, info);
        }
        catch
        {
            directory?.Dispose();
            throw;
        }
    }

    /// <summary>A loopback port free now (the issuer URL needs the real port before the server starts).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A token as the identity module issues after a password and TOTP sign-in.</summary>
    public string TokenFor(string username, params string[] roles) =>
        Services.GetRequiredService<AccessTokenIssuer>().Issue(new TokenSubject("sub-" + username, username, roles, ["pwd", "otp"]));

    /// <summary>A token for an existing account (its real subject id and roles), as issued after an MFA sign-in, on the server's clock.</summary>
    public async Task<string> TokenForAccountAsync(string username)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<SpeUser>>();
        var user = await users.FindByNameAsync(username) ?? throw new InvalidOperationException($"no account {username}");
        var roles = await users.GetRolesAsync(user);
        return Services.GetRequiredService<AccessTokenIssuer>().Issue(new TokenSubject(user.Id, username, [.. roles], ["pwd", "otp"]));
    }

    /// <summary>A client for an existing account (see <see cref="TokenForAccountAsync"/>).</summary>
    public async Task<HttpClient> ClientForAccountAsync(string username) => ClientWithToken(await TokenForAccountAsync(username));

    /// <summary>A client signed in as <paramref name="username"/> with <paramref name="roles"/> and MFA.</summary>
    public HttpClient ClientAs(string username, params string[] roles) => ClientWithToken(TokenFor(username, roles));

    /// <summary>A client that sends the given bearer token.</summary>
    public HttpClient ClientWithToken(string token)
    {
        var client = PinnedHttp.Create(BaseAddress, Info.CertificateFingerprint);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Stops the server but keeps its data directory (to start another server on it, as after a restart).</summary>
    public async Task StopKeepingDataAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await StopKeepingDataAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory?.Dispose();
    }
}
