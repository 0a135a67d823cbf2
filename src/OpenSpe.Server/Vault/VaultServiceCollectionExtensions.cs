using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Vault;

/// <summary>Registers the vault: the project key store, the object store and the erasure hook.</summary>
internal static class VaultServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IProjectKeyStore"/> (backend from <c>Vault:KeyManagement</c>),
    /// <see cref="IObjectStore"/> (<c>Vault:ObjectStore</c>) and <see cref="IProjectDataEraser"/>.
    /// Needs <see cref="DataDirectory"/> and configuration in the container; options are validated at start.
    /// </summary>
    public static IServiceCollection AddVault(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<KeyManagementOptions>().BindConfiguration(KeyManagementOptions.Section).ValidateOnStart();
        services.AddOptions<ObjectStoreOptions>().BindConfiguration(ObjectStoreOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KeyManagementOptions>, KeyManagementOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ObjectStoreOptions>, ObjectStoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.AddSingleton<IProjectKeyStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<KeyManagementOptions>>().Value;
            var data = sp.GetRequiredService<DataDirectory>();
            var time = sp.GetRequiredService<TimeProvider>();
            return options.Backend == KeyManagementOptions.Pkcs11Backend
                ? new Pkcs11KeyStore(data, options.Pkcs11, time, sp.GetRequiredService<ILogger<Pkcs11KeyStore>>())
                : new LocalKeyring(data, options.MasterKeyEnvironmentVariable, time, sp.GetRequiredService<ILogger<LocalKeyring>>());
        });
        services.AddSingleton<IObjectStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ObjectStoreOptions>>().Value;
            return new FileSystemObjectStore(options.Root ?? sp.GetRequiredService<DataDirectory>().File("objects"));
        });
        services.AddSingleton<IProjectDataEraser, ProjectDataEraser>();
        return services;
    }
}
