using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Hosting;

/// <summary>What a started server tells its operator.</summary>
/// <param name="Urls">The HTTPS addresses it listens on.</param>
/// <param name="CertificateFingerprint">SHA-256 of the TLS certificate, for pinning.</param>
/// <param name="DataDirectory">Where its data is.</param>
/// <param name="DevAccountsPath">The dev accounts file, in dev mode.</param>
/// <param name="DevAccounts">The dev accounts, in dev mode.</param>
/// <param name="Database">The database, described without secrets.</param>
public sealed record SpeStartInfo(IReadOnlyList<string> Urls, string CertificateFingerprint, string DataDirectory, string? DevAccountsPath, IReadOnlyList<DevAccount> DevAccounts, string Database);

/// <summary>
/// Builds and starts the SPE server: one place that turns configuration into a running HTTPS
/// host. Used by <c>spe server</c>, the integration tests and the benchmarks alike.
/// </summary>
public static class SpeHost
{
    private static readonly ActivityListener TraceListener = CreateTraceListener();

    /// <summary>
    /// Builds the server from configuration (keys: <c>Server:*</c>, <c>Tls:*</c>, <c>Database:*</c>,
    /// <c>Audit:*</c>, <c>RateLimiting:*</c>, <c>Api:*</c>, <c>Tokens:*</c>).
    /// </summary>
    /// <exception cref="SpeConfigurationException">The configuration cannot work.</exception>
    public static WebApplication Build(IConfiguration configuration, Action<IServiceCollection>? configureServices = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        GC.KeepAlive(TraceListener);
        var server = BindValidated<ServerOptions>(configuration, ServerOptions.Section);
        var tls = BindValidated<TlsOptions>(configuration, TlsOptions.Section);
        var databaseOptions = BindValidated<DatabaseOptions>(configuration, DatabaseOptions.Section);
        IReadOnlyList<System.Net.IPEndPoint> endpoints;
        try
        {
            endpoints = ListenUrls.Parse(server.Urls);
        }
        catch (FormatException ex)
        {
            throw new SpeConfigurationException($"Server:Urls: {ex.Message}", ex);
        }

        OwnerOnlyFiles.RestrictProcessUmask();
        var directory = DataDirectory.Open(server.DataDirectory);
        var directoryLock = DataDirectoryLock.Acquire(directory);
        try
        {
            OwnerOnlyFiles.Tighten(directory);
            return BuildOnLockedDirectory(configuration, configureServices, server, tls, databaseOptions, endpoints, directory, directoryLock);
        }
        catch
        {
            directoryLock.Dispose();
            throw;
        }
    }

    private static WebApplication BuildOnLockedDirectory(
        IConfiguration configuration,
        Action<IServiceCollection>? configureServices,
        ServerOptions server,
        TlsOptions tls,
        DatabaseOptions databaseOptions,
        IReadOnlyList<System.Net.IPEndPoint> endpoints,
        DataDirectory directory,
        DataDirectoryLock directoryLock)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(SpeHost).Assembly.GetName().Name });
        builder.Configuration.AddConfiguration(configuration);
        var time = TimeProvider.System;
        builder.Services.AddSingleton(time);

        var certificate = LoadCertificate(server, tls, directory, time);
        var database = SpeDatabase.Resolve(databaseOptions, directory.Path);
        var tokens = BindValidated<TokenOptions>(configuration, TokenOptions.Section);
        var issuer = IssuerFor(tokens, endpoints);
        var external = new ExternalIdentityOptions();
        configuration.GetSection(ExternalIdentityOptions.Section).Bind(external);
        foreach (var provider in external.Providers)
        {
            ValidateObject(provider, ExternalIdentityOptions.Section);
        }

        var signingKey = TokenSigningKey.LoadOrCreate(directory);
        var encryptionKey = TokenEncryptionKey.LoadOrCreate(directory);

        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = configuration.GetValue<long?>("Api:MaxRequestBodyBytes") ?? 1024 * 1024;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            foreach (var endpoint in endpoints)
            {
                kestrel.Listen(endpoint, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    // Note: TLS only, 1.2 or newer with AEAD suites (TIR-3, TIR-8); there is no code path that opens a plain listener.
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = certificate;
                        https.SslProtocols = TlsPolicy.Protocols;
                        https.OnAuthenticate = TlsPolicy.Apply;
                    });
                });
            }
        });
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, TransportMemoryPoolFactory>();
        builder.Services.AddRoutingCore();
        builder.Services.AddLogging(logging =>
        {
            logging.AddConfiguration(configuration.GetSection("Logging"));
            logging.AddSimpleConsole(o => o.SingleLine = true);
        });
        builder.Services.AddSingleton<ILogger<OpenIddict.Server.OpenIddictServerDispatcher>, OAuthLogRedaction>();

        builder.Services.AddSingleton(directory);
        // A factory registration, so the container owns the lock and releases it when the host is disposed.
        builder.Services.AddSingleton(_ => directoryLock);
        // Authentication pulls in Data Protection; its keys belong in the 0700 data directory, not the home directory.
        builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(directory.File("data-protection"))).SetApplicationName("openspe");
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton(certificate);
        AddOptions<ServerOptions>(builder.Services, ServerOptions.Section);
        AddOptions<DatabaseOptions>(builder.Services, DatabaseOptions.Section);
        AddOptions<AuditOptions>(builder.Services, AuditOptions.Section);
        AddOptions<RateLimitOptions>(builder.Services, RateLimitOptions.Section);
        AddOptions<TokenOptions>(builder.Services, TokenOptions.Section);
        AddOptions<ApiVersionOptions>(builder.Services, ApiVersionOptions.Section);

        builder.Services.AddSingleton(_ => AuditKeyFile.LoadOrCreate(directory));
        builder.Services.AddSingleton<AuditStore>();
        builder.Services.AddAuditWitnessing(directory);
        builder.Services.AddSingleton<AuditWriter>();
        builder.Services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<AuditWriter>());
        builder.Services.AddSingleton<AuditService>();
        builder.Services.AddSingleton(signingKey);
        builder.Services.AddSingleton(external);
        builder.Services.PostConfigure<TokenOptions>(o => o.Issuer = issuer);
        builder.Services.AddSingleton<AccessTokenIssuer>();
        builder.Services.AddScoped<TokenPrincipals>();
        builder.Services.AddSpeIdentity(signingKey, encryptionKey, issuer, external);
        builder.Services.AddVault();
        builder.Services.AddSingleton(_ => PermitSigningKey.LoadOrCreate(directory));
        builder.Services.AddHalts();
        builder.Services.AddSingleton<PermitLifecycleSignal>();
        builder.Services.AddScoped<PermitService>();
        builder.Services.AddProjectAccess();
        builder.Services.AddHostedService<PermitLifecycleService>();
        AddOptions<PermitOptions>(builder.Services, PermitOptions.Section);
        AddOptions<OpenSpe.Server.Transfers.UploadOptions>(builder.Services, OpenSpe.Server.Transfers.UploadOptions.Section);
        builder.Services.AddSingleton<OpenSpe.Server.Transfers.UploadStaging>();
        builder.Services.AddSingleton<OpenSpe.Server.Transfers.IFreeSpaceProbe, OpenSpe.Server.Transfers.DriveFreeSpaceProbe>();
        builder.Services.AddSingleton<OpenSpe.Server.Transfers.UploadStorage>();
        builder.Services.AddSingleton<OpenSpe.Server.Transfers.IngestVerifier>();
        builder.Services.AddSingleton<OpenSpe.Server.Transfers.IngestSessions>();
        builder.Services.AddScoped<OpenSpe.Server.Transfers.UploadService>();
        builder.Services.AddSingleton<OpenSpe.Server.Transfers.ExpiredUploadSweeper>();
        builder.Services.AddHostedService(s => s.GetRequiredService<OpenSpe.Server.Transfers.ExpiredUploadSweeper>());
        builder.Services.AddScoped<IProjectTerminationHook, OpenSpe.Server.Transfers.UploadTerminationHook>();
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "__Host-spe-af";
            o.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.Always;
            o.Cookie.SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict;
        });

        builder.Services.AddSpeProblemDetails();
        builder.Services.AddExceptionHandler<SpeExceptionHandler>();
        builder.Services.AddSpeJson();
        builder.Services.AddSpeRateLimiting();
        builder.Services.AddSpeOpenApi();
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        _ = app.Services.GetRequiredService<DataDirectoryLock>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseMiddleware<ApiVersionMiddleware>();
        app.UseRouting();
        // The bearer token is authenticated first (to name the actor) so that the rate limiter's identity
        // bucket and every audit record know the caller; the limiter refuses a flood before any audit
        // record is written (RateLimitRefusalAudit records refusals, aggregating anonymous ones); the
        // audit middleware sits before UseAuthentication so it also records what the OAuth server answers.
        app.UseMiddleware<RequestActorMiddleware>();
        app.UseRateLimiter();
        app.UseMiddleware<AuditMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<ProjectAccessGate>();
        app.UseAntiforgery();

        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous().WithName("openapi.document");
        app.MapServerEndpoints();
        app.MapAuditEndpoints();
        app.MapOAuthEndpoints();
        app.MapSignInPages();
        app.MapAccountEndpoints();
        app.MapAdminEndpoints();
        app.MapPermitEndpoints();
        app.MapProjectEndpoints();
        app.MapHaltEndpoints();
        OpenSpe.Server.Transfers.TusEndpoints.MapTransferEndpoints(app);
        return app;
    }

    /// <summary>
    /// Applies migrations, starts the audit writer, records the start (and any configuration
    /// change) in the audit log, then starts listening.
    /// </summary>
    public static async Task<SpeStartInfo> StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.Services;
        var database = services.GetRequiredService<SpeDatabase>();
        var server = services.GetRequiredService<IOptions<ServerOptions>>().Value;
        ValidateAllOptions(services);
        try
        {
            await database.MigrateAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
        {
            throw new SpeConfigurationException($"Database {database.Describe()} is not usable: {FirstLine(ex.Message)}", ex);
        }

        // Keys are created at start, not on first use, so a fresh data directory is complete before the first request.
        _ = services.GetRequiredService<TokenSigningKey>();
        try
        {
            await services.GetRequiredService<AuditWriter>().StartAsync(cancellationToken);
        }
        catch (AuditLogRegressionException ex)
        {
            // Note: fail closed; signing over a truncated or rewritten log would make the tampering verify.
            throw new SpeConfigurationException($"refusing to start: {FirstLine(ex.Message)} (SPE12103; see docs/operations.md, 'Witnesses')", ex);
        }
        await RecordStartAsync(services, database, server, cancellationToken);
        var directory = services.GetRequiredService<DataDirectory>();
        IReadOnlyList<DevAccount> accounts = server.Dev ? DevAccounts.LoadOrCreate(directory) : [];
        await using (var scope = services.CreateAsyncScope())
        {
            var seeder = scope.ServiceProvider.GetRequiredService<IdentitySeeder>();
            await seeder.SeedAsync(services.GetRequiredService<IOptions<TokenOptions>>().Value.Issuer!, cancellationToken);
            await seeder.SeedDevAccountsAsync(accounts);
            await services.GetRequiredService<HaltRegistry>().ReloadAsync(scope.ServiceProvider.GetRequiredService<SpeDbContext>(), cancellationToken);
        }

        _ = services.GetRequiredService<PermitSigningKey>();

        await app.StartAsync(cancellationToken);
        var urls = app.Urls.ToList();
        return new SpeStartInfo(
            urls,
            TlsCertificates.Fingerprint(services.GetRequiredService<X509Certificate2>()),
            directory.Path,
            server.Dev ? directory.File(DevAccounts.FileName) : null,
            accounts,
            database.Describe());
    }

    private static async Task RecordStartAsync(IServiceProvider services, SpeDatabase database, ServerOptions server, CancellationToken cancellationToken)
    {
        var audit = services.GetRequiredService<IAuditLog>();
        var fingerprint = ConfigurationFingerprint(services, database, server);
        await using var context = database.CreateDbContext();
        var stored = await context.ServerSettings.FirstOrDefaultAsync(s => s.Name == "config.fingerprint", cancellationToken);
        if (stored is not null && stored.Value != fingerprint)
        {
            await audit.AppendAsync(new AuditEntry(AuditActor.System, "config.changed", new AuditResource("configuration", null, null), AuditOutcome.Success, null, null,
                new Dictionary<string, string> { ["previous"] = stored.Value, ["current"] = fingerprint }), cancellationToken);
        }

        await audit.AppendAsync(new AuditEntry(AuditActor.System, "server.started", new AuditResource("server", null, null), AuditOutcome.Success, null, null,
            new Dictionary<string, string>
            {
                ["mode"] = server.Dev ? "dev" : "production",
                ["database"] = database.Describe(),
                ["urls"] = server.Urls,
                ["configFingerprint"] = fingerprint,
            }), cancellationToken);

        if (stored is null)
        {
            context.ServerSettings.Add(new ServerSettingEntity { Name = "config.fingerprint", Value = fingerprint });
        }
        else
        {
            stored.Value = fingerprint;
        }

        await context.SaveChangesAsync(cancellationToken);
    }

    private static string ConfigurationFingerprint(IServiceProvider services, SpeDatabase database, ServerOptions server)
    {
        // Only settings that change behaviour and hold no secret: the fingerprint is itself audited.
        var snapshot = new
        {
            server.Dev,
            server.Urls,
            Database = database.Describe(),
            Audit = services.GetRequiredService<IOptions<AuditOptions>>().Value,
            RateLimiting = services.GetRequiredService<IOptions<RateLimitOptions>>().Value,
            Tokens = services.GetRequiredService<IOptions<TokenOptions>>().Value,
            Api = services.GetRequiredService<IOptions<ApiVersionOptions>>().Value,
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(snapshot);
        return Convert.ToHexStringLower(SHA256.HashData(json))[..16];
    }

    private static X509Certificate2 LoadCertificate(ServerOptions server, TlsOptions tls, DataDirectory directory, TimeProvider time)
    {
        if (!string.IsNullOrWhiteSpace(tls.CertificatePath) || !string.IsNullOrWhiteSpace(tls.KeyPath))
        {
            if (string.IsNullOrWhiteSpace(tls.CertificatePath) || string.IsNullOrWhiteSpace(tls.KeyPath))
            {
                throw new SpeConfigurationException("TLS needs both Tls:CertificatePath and Tls:KeyPath.");
            }

            try
            {
                return TlsCertificates.Load(tls.CertificatePath, tls.KeyPath);
            }
            catch (Exception ex) when (ex is IOException or CryptographicException or UnauthorizedAccessException)
            {
                throw new SpeConfigurationException($"TLS certificate {tls.CertificatePath} or key {tls.KeyPath} cannot be loaded: {FirstLine(ex.Message)}", ex);
            }
        }

        if (!server.Dev)
        {
            throw new SpeConfigurationException(
                "refusing to start without TLS: set Tls:CertificatePath and Tls:KeyPath (or SPE__Tls__CertificatePath and SPE__Tls__KeyPath), or use --dev for a self-signed certificate");
        }

        return TlsCertificates.LoadOrCreateDev(directory, time);
    }

    private static T BindValidated<T>(IConfiguration configuration, string section)
        where T : class, new()
    {
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new SpeConfigurationException($"{section}: {FirstLine(ex.Message)}", ex);
        }

        ValidateObject(options, section);
        return options;
    }

    private static void ValidateObject(object options, string section)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            throw new SpeConfigurationException($"{section}: {string.Join("; ", results.Select(r => r.ErrorMessage))}");
        }
    }

    private static string IssuerFor(TokenOptions tokens, IReadOnlyList<System.Net.IPEndPoint> endpoints)
    {
        if (!string.IsNullOrWhiteSpace(tokens.Issuer))
        {
            if (!Uri.TryCreate(tokens.Issuer, UriKind.Absolute, out var configured) || configured.Scheme != Uri.UriSchemeHttps)
            {
                throw new SpeConfigurationException("Tokens:Issuer must be an absolute https:// URL");
            }

            return configured.AbsoluteUri;
        }

        var first = endpoints[0];
        if (first.Port == 0)
        {
            throw new SpeConfigurationException("Server:Urls: give a fixed port (the token issuer URL is derived from it), or set Tokens:Issuer");
        }

        var host = first.Address.Equals(System.Net.IPAddress.Any) || first.Address.Equals(System.Net.IPAddress.IPv6Any)
            ? "localhost"
            : first.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{first.Address}]" : first.Address.ToString();
        return $"https://{host}:{first.Port}/";
    }

    private static void AddOptions<T>(IServiceCollection services, string section)
        where T : class => services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();

    private static void ValidateAllOptions(IServiceProvider services)
    {
        try
        {
            _ = services.GetRequiredService<IOptions<AuditOptions>>().Value;
            _ = services.GetRequiredService<IOptions<RateLimitOptions>>().Value;
            _ = services.GetRequiredService<IOptions<TokenOptions>>().Value;
            _ = services.GetRequiredService<IOptions<ApiVersionOptions>>().Value;
            _ = services.GetRequiredService<IOptions<OpenSpe.Server.Transfers.UploadOptions>>().Value;
            _ = services.GetRequiredService<IOptions<HaltOptions>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            throw new SpeConfigurationException(string.Join("; ", ex.Failures), ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new SpeConfigurationException(FirstLine(ex.Message), ex);
        }
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }

    private static ActivityListener CreateTraceListener()
    {
        // Note: ASP.NET Core only creates request activities (and so honours an incoming W3C traceparent) when someone listens.
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
