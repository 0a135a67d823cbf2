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
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Password, string Secret)> _accounts = new(StringComparer.Ordinal);
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

    internal SpeDatabase Database => Services.GetRequiredService<SpeDatabase>();

    /// <summary>Starts a server on <paramref name="backend"/> with extra settings; <paramref name="map"/> may add test-only endpoints.</summary>
    /// <remarks>
    /// <c>reuseDirectory</c> runs on an existing server directory (a restart); it is then not deleted on dispose.
    /// <c>services</c> may replace services after the host registered its own (e.g. a fake free-space probe).
    /// </remarks>
    public static Task<SpeTestServer> StartAsync(TestBackend backend = TestBackend.Sqlite, IDictionary<string, string?>? settings = null, Action<WebApplication>? map = null, TimeProvider? time = null, string? reuseDirectory = null,
        Action<IServiceCollection>? services = null)
    {
        var directory = reuseDirectory is null ? new TempDirectory() : null;
        return StartInAsync(directory, reuseDirectory ?? directory!.Path, backend, settings, map, time, services);
    }

    /// <summary>
    /// Starts another instance beside <paramref name="first"/>, as a second server behind the same load balancer: a data
    /// directory of its own (one server per directory) holding a copy of the first one's keys (token signing and
    /// encryption, Data Protection, master key, audit and permit signing keys, dev accounts), the first one's database and
    /// token issuer, and nothing else in common.
    /// </summary>
    public static Task<SpeTestServer> StartSecondInstanceAsync(SpeTestServer first, IDictionary<string, string?>? settings = null, TimeProvider? time = null,
        Action<IServiceCollection>? services = null)
    {
        ArgumentNullException.ThrowIfNull(first);
        var directory = new TempDirectory();
        try
        {
            CopyKeys(Path.Combine(first.DataDirectory, "data"), Path.Combine(directory.Path, "data"));
            var values = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
            {
                ["Database:ConnectionString"] = first.Database.ConnectionString,
                ["Tokens:Issuer"] = first.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TokenOptions>>().Value.Issuer,
            };
            return StartInAsync(directory, directory.Path, first.Database.Provider == DatabaseProvider.Sqlite ? TestBackend.Sqlite : TestBackend.PostgreSql, values, null, time, services);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    private static async Task<SpeTestServer> StartInAsync(TempDirectory? directory, string path, TestBackend backend, IDictionary<string, string?>? settings, Action<WebApplication>? map, TimeProvider? time,
        Action<IServiceCollection>? services)
    {
        // Note: a port free when chosen can be taken before Kestrel binds it (an outgoing connection of a parallel test gets
        // its local port from the same range), so a start that lost its port is tried again on another one, unless the
        // test chose the address itself.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(directory, path, backend, settings, map, time, services);
            }
            catch (IOException ex) when (attempt < 5 && ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException && settings?.ContainsKey("Server:Urls") != true)
            {
            }
            catch
            {
                directory?.Dispose();
                throw;
            }
        }
    }

    private static async Task<SpeTestServer> StartOnceAsync(TempDirectory? directory, string path, TestBackend backend, IDictionary<string, string?>? settings, Action<WebApplication>? map, TimeProvider? time,
        Action<IServiceCollection>? services)
    {
        WebApplication? app = null;
        try
        {
            var values = new Dictionary<string, string?>
            {
                ["Server:Dev"] = "true",
                // Note: the dev demo permit would show in every listing; DevDemoTests turns it on.
                ["Server:DevDemo"] = "false",
                ["Server:DataDirectory"] = Path.Combine(path, "data"),
                ["Server:Urls"] = $"https://127.0.0.1:{FreePort()}",
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
                // Note: on a loaded 2-core test machine (two test hosts, X servers, Chromium) a poll has waited over 5 s for a thread,
                // and the fail-closed registry then refused or closed unrelated work as halted (SPE3005, desktop close 4002) in CI;
                // tests of staleness set their own bound (HaltSharingTests: 1 s, the product's default).
                ["Halts:StalenessBound"] = "00:00:30",
                // Note: dev mode would run jobs in bubblewrap under a shared uid range; tests that run sandboxes choose their own.
                ["Workspaces:Runtime"] = "none",
                // Note: training gates project access outside dev mode (OPR-23); the suite's servers default to off, even those
                // outside dev mode, so tests about other things need no training records. TrainingGateTests turn it on.
                ["Training:Required"] = "false",
                // Note: the fake clock fires a periodic timer once for every period it jumps over, each tick running the
                // service's work (a database query) inline in Advance: a 31-day jump cost about 27,000 queries at the shipped
                // 5- and 10-minute periods, 10 s of CPU alone and minutes on a loaded machine. The longest periods the
                // options allow cut that twelvefold; tests of these services set their own.
                ["Alerts:CheckInterval"] = "01:00:00",
                ["Incidents:Reminders:CheckInterval"] = "01:00:00",
                ["Uploads:SweepInterval"] = "01:00:00",
            };
            if (settings?.ContainsKey("Database:ConnectionString") != true)
            {
                values["Database:ConnectionString"] = await TestDatabases.CreateAsync(backend, Path.Combine(path, "data"));
            }

            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                values[key] = value;
            }

            if (string.Equals(values.GetValueOrDefault("Server:Dev"), "true", StringComparison.OrdinalIgnoreCase) && values.GetValueOrDefault(TestDevAccounts.OwnAccountsSetting) != "true")
            {
                TestDevAccounts.WriteInto(Path.Combine(path, "data"));
            }

            var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
            app = SpeHost.Build(configuration, registered =>
            {
                if (time is not null)
                {
                    registered.AddSingleton(time);
                }

                MemoizingPasswordHasher.Install(registered);
                registered.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(new TestErrorLog(values["Server:Urls"]!));

                services?.Invoke(registered);
            });
            map?.Invoke(app);
            var info = await SpeHost.StartAsync(app);
            return new SpeTestServer(directory, path, app, info);
        }
        catch when (app is not null)
        {
            // Note: the half-started host holds the data directory's lock; it must let go before another attempt.
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Copies what instances sharing a database must share; not the lock, the database, the uploads or this instance's record of its checkpoints.</summary>
    private static void CopyKeys(string source, string target)
    {
        string[] skipped = [DataDirectoryLock.FileName, OpenSpe.Server.Audit.AuditCheckpointLedger.StateFileName, "uploads", "objects"];
        Directory.CreateDirectory(target);
        foreach (var entry in Directory.EnumerateFileSystemEntries(source))
        {
            var name = Path.GetFileName(entry);
            if (skipped.Contains(name) || name.StartsWith("spe.db", StringComparison.Ordinal))
            {
                continue;
            }

            if (Directory.Exists(entry))
            {
                CopyKeys(entry, Path.Combine(target, name));
            }
            else
            {
                File.Copy(entry, Path.Combine(target, name));
            }
        }
    }

    /// <summary>A loopback port free now (the issuer URL needs the real port before the server starts).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Signs <paramref name="username"/> in for real, through the token endpoint with the account's password and a
    /// one-time code computed on the server's clock, and returns the access token. The account must be a dev account
    /// or one made by <see cref="EnsureAccountAsync"/>.
    /// </summary>
    public async Task<string> TokenForAccountAsync(string username) => (await SignInAsync(username)).AccessToken;

    /// <summary>A real sign-in (see <see cref="TokenForAccountAsync"/>): access and refresh token.</summary>
    public async Task<(string AccessToken, string RefreshToken)> SignInAsync(string username)
    {
        var (password, secret) = Credentials(username);
        await using (var scope = Services.CreateAsyncScope())
        {
            // Note: one-time codes are single use (replay is tested in SignInTests); tests sign the same person in many times
            // within one 30-second step, so the replay guard is reset before each sign-in here. Nothing else is bypassed.
            var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<SpeUser>>();
            var user = await users.FindByNameAsync(username) ?? throw new InvalidOperationException($"no account {username}");
            user.LastTotpStep = 0;
            await users.UpdateAsync(user);
        }

        var now = Services.GetRequiredService<TimeProvider>().GetUtcNow();
        var code = Totp.Compute(Base32.Decode(secret), Totp.StepAt(now));
        var json = await TokenEndpointAsync($"sign-in of {username}", new()
        {
            ["grant_type"] = "password",
            ["client_id"] = "spe-cli",
            ["username"] = username,
            ["password"] = password,
            ["otp"] = code,
            ["scope"] = "openid offline_access",
        });
        return (json.GetProperty("access_token").GetString()!, json.TryGetProperty("refresh_token", out var r) ? r.GetString()! : "");
    }

    /// <summary>A client for an account, signed in for real (see <see cref="TokenForAccountAsync"/>).</summary>
    public async Task<HttpClient> ClientForAccountAsync(string username) => ClientWithToken(await TokenForAccountAsync(username));

    /// <summary>
    /// A client for a person named <paramref name="username"/> holding exactly <paramref name="roles"/>, signed in for
    /// real. The account is made (or its roles set) directly in the account store, as arrangement: the admin API's
    /// enrolment and four-eyes steps are tested in their own tests.
    /// </summary>
    public async Task<HttpClient> ClientAsAsync(string username, params string[] roles)
    {
        await EnsureAccountAsync(username, roles);
        return await ClientForAccountAsync(username);
    }

    /// <summary>A real sign-in token for a person holding exactly <paramref name="roles"/> (see <see cref="ClientAsAsync"/>).</summary>
    public async Task<string> TokenForAsync(string username, params string[] roles)
    {
        await EnsureAccountAsync(username, roles);
        return await TokenForAccountAsync(username);
    }

    /// <summary>
    /// A real password-only sign-in: an account holding <paramref name="roles"/> but no second factor yet (as after
    /// enrolment, before TOTP) signs in with its password alone; the token's <c>amr</c> is <c>pwd</c>.
    /// </summary>
    public async Task<string> PasswordOnlyTokenAsync(string username, params string[] roles)
    {
        await EnsureAccountAsync(username, roles);
        await using (var scope = Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<SpeUser>>();
            var user = (await users.FindByNameAsync(username))!;
            SignInService.ResetSecondFactor(user);
            await users.UpdateAsync(user);
        }

        return (await TokenEndpointAsync($"password-only sign-in of {username}", new()
        {
            ["grant_type"] = "password",
            ["client_id"] = "spe-cli",
            ["username"] = username,
            ["password"] = Credentials(username).Password,
            ["scope"] = "openid offline_access",
        })).GetProperty("access_token").GetString()!;
    }

    /// <summary>Registers an application (as the admin API does) and returns a real client-credentials token for it.</summary>
    public async Task<string> ApplicationTokenAsync(string clientId)
    {
        string secret;
        await using (var scope = Services.CreateAsyncScope())
        {
            var applications = scope.ServiceProvider.GetRequiredService<OpenIddict.Abstractions.IOpenIddictApplicationManager>();
            if (await applications.FindByClientIdAsync(clientId) is { } existing)
            {
                await applications.DeleteAsync(existing);
            }

            secret = await scope.ServiceProvider.GetRequiredService<IdentitySeeder>().CreateApplicationAsync(clientId, null, "test-admin", CancellationToken.None);
        }

        return (await TokenEndpointAsync($"client-credentials grant of {clientId}", new()
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = secret,
        })).GetProperty("access_token").GetString()!;
    }

    private async Task<System.Text.Json.JsonElement> TokenEndpointAsync(string what, Dictionary<string, string> form)
    {
        using var response = await Client.PostAsync("/connect/token", new FormUrlEncodedContent(form));
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? System.Text.Json.JsonDocument.Parse(body).RootElement.Clone()
            : throw new InvalidOperationException($"{what} failed: {(int)response.StatusCode} {body}");
    }

    /// <summary>Makes an account with a known password and second factor and exactly <paramref name="roles"/>, or sets the roles of an existing one.</summary>
    public async Task EnsureAccountAsync(string username, params string[] roles)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<SpeUser>>();
        var user = await users.FindByNameAsync(username);
        if (user is null)
        {
            var password = "test-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
            var secret = Base32.Encode(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
            user = new SpeUser { UserName = username, CreatedAt = DateTimeOffset.UtcNow };
            scope.ServiceProvider.GetRequiredService<SignInService>().SetEnrolledSecret(user, secret);
            var created = await users.CreateAsync(user, password);
            if (!created.Succeeded)
            {
                throw new InvalidOperationException(string.Join("; ", created.Errors.Select(e => e.Description)));
            }

            _accounts[username] = (password, secret);
        }

        var held = await users.GetRolesAsync(user);
        await users.RemoveFromRolesAsync(user, held.Except(roles));
        await users.AddToRolesAsync(user, roles.Except(held).Distinct());
    }

    /// <summary>The password and TOTP secret of a dev account or of one made by <see cref="EnsureAccountAsync"/>.</summary>
    public (string Password, string Secret) Credentials(string username)
    {
        if (_accounts.TryGetValue(username, out var known))
        {
            return known;
        }

        var dev = Info.DevAccounts.FirstOrDefault(a => a.Username == username)
            ?? throw new InvalidOperationException($"no known credentials for {username}: use a dev account or EnsureAccountAsync");
        return (dev.Password, dev.TotpSecret);
    }

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
