using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The federation module (section <c>Federation</c>): off unless <c>Federation:Listen</c> is set; then its own mutual-TLS listener
/// (<see cref="FederationListener"/>) serving <c>openspe.federation.v1.Federation</c>, the permit checks a node makes, the task
/// runner, and the analyses registered as <see cref="IFederatedAnalysis"/> (built in, each run in the project's sandbox: the row count
/// <see cref="RowCountAnalysis"/>, the library's GLM and OMOP cohort counts through <see cref="SandboxedAnalysis"/>, and federated
/// learning's local step).
/// </summary>
internal static class FederationModule
{
    /// <summary>Registers the module when configured.</summary>
    /// <exception cref="SpeConfigurationException">The CA, the node certificate or key cannot be loaded, or the certificate names no node.</exception>
    public static IServiceCollection AddFederationModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        services.AddValidatedOptions<FederationOptions>(FederationOptions.Section);
        // Note: registered on every SPE, because the HDAB's privacy pages read the ledgers whether or not this SPE federates.
        services.AddSingleton<Learning.PrivacyLedgers>();
        var options = OptionsRegistration.BindNow<FederationOptions>(host.Configuration, FederationOptions.Section);
        if (!options.Enabled)
        {
            return services;
        }

        var identity = LoadIdentity(options);
        // Note: a trusted issuer coordinated by this very node would make this node accept its own peers' tasks as if it had sent
        // them, and a permit of another HDAB is never coordinated here; so this is a configuration error, not a trust to honour.
        if (options.TrustedPermitIssuers.FirstOrDefault(t => string.Equals(t.Node, identity.Name, StringComparison.Ordinal)) is { } self)
        {
            throw new SpeConfigurationException($"Federation:TrustedPermitIssuers: the entry for '{self.Issuer}' names this node ({identity.Name}) as its Node; name the federation node of that issuer's SPE");
        }

        try
        {
            _ = FederationListener.ParseListen(options.Listen!);
        }
        catch (FormatException ex)
        {
            throw new SpeConfigurationException(ex.Message, ex);
        }

        services.AddSingleton(sp => new FederationNodeIdentity(identity.Name, sp.GetRequiredService<IOptions<TokenOptions>>().Value.Issuer, identity.Certificate, identity.Authority));
        // Note: the highest accepted CRL number is kept in a file of the data directory rather than the database, because it is read
        // inside the TLS handshake (no database round trip there, and no database needed to refuse), and each instance judges the
        // list file it reads itself; the file is written atomically with fsync, and only when a newer list arrives.
        services.AddSingleton(sp => new FederationRevocations(options.Crl!, sp.GetRequiredService<FederationNodeIdentity>().Authority, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<FederationRevocations>>(), sp.GetRequiredService<DataDirectory>().File(FederationRevocations.StateFileName)));
        services.AddSingleton(sp => new FederationPeerAdmission(sp.GetRequiredService<FederationNodeIdentity>().Authority, sp.GetRequiredService<FederationRevocations>(),
            options.AllowedPeers.ToHashSet(StringComparer.Ordinal), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<FederationAudit>();
        services.AddHostedService(sp => sp.GetRequiredService<FederationAudit>());
        services.AddSingleton(sp => new FederationMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            // Note: the peers this node calls are named in its configuration too, so they bound the tag values as the allow-list does.
            options.AllowedPeers.Concat(options.Peers.Select(p => p.Name))));
        services.AddSingleton<FederationPeerLimits>();
        services.AddSingleton<FederatedPermitVerifier>();
        services.AddSingleton<IFederatedData, FederatedData>();
        services.AddSingleton<IFederatedAnalysis, RowCountAnalysis>();
        services.AddSingleton<DecryptedCopies>();
        services.AddSingleton<FederatedComponentSandbox>();
        foreach (var (component, keepsRunner) in SandboxedAnalysis.BuiltIn)
        {
            services.AddSingleton<IFederatedAnalysis>(sp => new SandboxedAnalysis(component, keepsRunner, sp.GetRequiredService<FederatedComponentSandbox>(), sp.GetRequiredService<DecryptedCopies>()));
        }

        services.AddSingleton<Learning.FedAvgComponent>();
        services.AddSingleton<IFederatedAnalysis>(sp => sp.GetRequiredService<Learning.FedAvgComponent>());
        services.AddSingleton<FederatedComponentGate>();
        services.AddSingleton<FederatedTaskChecks>();
        services.AddSingleton<FederatedTasks>();
        services.AddSingleton<FederationPeerChannels>();
        services.AddSingleton<FederatedCoordinator>();
        services.AddSingleton<FederationGrpcService>();
        services.AddSingleton<FederationCallInterceptor>();
        services.AddSingleton<FederationListener>();
        services.AddHostedService(sp => sp.GetRequiredService<FederationListener>());
        return services;
    }

    private static (string Name, X509Certificate2 Certificate, X509Certificate2 Authority) LoadIdentity(FederationOptions options)
    {
        X509Certificate2? authority = null;
        try
        {
            authority = X509Certificate2.CreateFromPem(File.ReadAllText(options.CaCertificate!));
            var certificate = X509Certificate2.CreateFromPemFile(options.Certificate!, options.Key!);
            var name = FederationPeerAdmission.NodeName(certificate);
            if (name is null)
            {
                certificate.Dispose();
                throw new SpeConfigurationException($"Federation:Certificate {options.Certificate} names no federation node (issue it with 'spe federation cert issue')");
            }

            return (name, certificate, authority);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            authority?.Dispose();
            throw new SpeConfigurationException($"Federation: the CA certificate, node certificate or key cannot be loaded: {SpeConfigurationException.FirstLine(ex.Message)}", ex);
        }
    }
}
