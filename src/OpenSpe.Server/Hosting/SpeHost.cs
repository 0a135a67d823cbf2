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
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Monitoring;
using OpenSpe.Server.Desktop;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Terminal;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Operations;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Portal;
using OpenSpe.Server.Transfers;
using OpenSpe.Server.Vault;
using OpenSpe.Server.Workspaces;

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
        var server = OptionsRegistration.BindNow<ServerOptions>(configuration, ServerOptions.Section);
        var tls = OptionsRegistration.BindNow<TlsOptions>(configuration, TlsOptions.Section);
        var databaseOptions = OptionsRegistration.BindNow<DatabaseOptions>(configuration, DatabaseOptions.Section);
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
        var modules = new SpeModuleContext(configuration, directory, endpoints);

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
        builder.Services.AddScoped<SpeDbContext>(sp => sp.GetRequiredService<SpeDatabase>().CreateDbContext());
        builder.Services.AddSingleton(certificate);
        builder.Services.AddValidatedOptions<ServerOptions>(ServerOptions.Section);
        builder.Services.AddValidatedOptions<DatabaseOptions>(DatabaseOptions.Section);
        builder.Services.AddValidatedOptions<RateLimitOptions>(RateLimitOptions.Section);
        builder.Services.AddValidatedOptions<ApiVersionOptions>(ApiVersionOptions.Section);
        builder.Services.AddSingleton<IModuleStart, ServerStartRecord>();
        if (server.Dev && server.DevDemo)
        {
            builder.Services.AddSingleton<IModuleStart, Demo.DevDemo>();
        }

        builder.Services.AddHealthChecks().AddCheck<DatabaseReadinessCheck>(DatabaseReadinessCheck.Name, tags: [ReadinessChecks.Tag]);

        // The modules, each registering its services, options, EF Core configuration and start-up work.
        builder.Services.AddMonitoringModule(modules);
        builder.Services.AddAuditModule(modules);
        builder.Services.AddIdentityModule(modules);
        builder.Services.AddVault();
        builder.Services.AddPermitsModule(modules);
        builder.Services.AddTransfersModule(modules);
        builder.Services.AddWorkspacesModule(modules);
        builder.Services.AddDesktopModule(modules);
        builder.Services.AddAirlockModule(modules);
        builder.Services.AddTerminalModule(modules);
        builder.Services.AddOperationsModule(modules);
        builder.Services.AddFederationModule(modules);
        builder.Services.AddPortalModule(modules);

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
        app.UseProjectAccess();
        app.UseMiddleware<BodyCharsetMiddleware>();
        // After the audit middleware, which wraps the upgrade feature the WebSocket middleware takes (opened/closed records).
        app.UseWebSockets();
        app.UseAntiforgery();

        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous().WithName("openapi.document");
        app.MapServerEndpoints();
        app.MapAuditModule();
        app.MapIdentityModule();
        app.MapPermitsModule();
        app.MapTransfersModule();
        app.MapWorkspacesModule();
        app.MapDesktopModule();
        app.MapAirlockModule();
        app.MapTerminalModule();
        app.MapFederationModule();
        app.MapMonitoringModule(configuration);
        app.MapOperationsModule();
        app.MapPortalModule();
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
            throw new SpeConfigurationException($"Database {database.Describe()} is not usable: {SpeConfigurationException.FirstLine(ex.Message)}", ex);
        }

        // Note: every module's start-up work, in order: the audit log first, since all after it may write audit records.
        foreach (var work in services.GetServices<IModuleStart>().OrderBy(w => w.Order))
        {
            await work.StartAsync(services, cancellationToken);
        }

        var directory = services.GetRequiredService<DataDirectory>();
        IReadOnlyList<DevAccount> accounts = server.Dev ? DevAccounts.LoadOrCreate(directory) : [];

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
                throw new SpeConfigurationException($"TLS certificate {tls.CertificatePath} or key {tls.KeyPath} cannot be loaded: {SpeConfigurationException.FirstLine(ex.Message)}", ex);
            }
        }

        if (!server.Dev)
        {
            throw new SpeConfigurationException(
                "refusing to start without TLS: set Tls:CertificatePath and Tls:KeyPath (or SPE__Tls__CertificatePath and SPE__Tls__KeyPath), or use --dev for a self-signed certificate");
        }

        return TlsCertificates.LoadOrCreateDev(directory, time);
    }

    private static void ValidateAllOptions(IServiceProvider services)
    {
        // Note: every module's options marked ValidateOnStart, checked before the database is touched, as one line an operator reads.
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
        }
        catch (OptionsValidationException ex)
        {
            throw new SpeConfigurationException(string.Join("; ", ex.Failures), ex);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            throw new SpeConfigurationException(string.Join("; ", ex.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures)), ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new SpeConfigurationException(SpeConfigurationException.FirstLine(ex.Message), ex);
        }
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
