using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Vault;

public sealed class VaultRegistrationTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task AddVault_ByDefault_UsesTheLocalKeyringAndTheFileSystemStore()
    {
        await using var services = Build([]);

        var keys = services.GetRequiredService<IProjectKeyStore>();
        var objects = services.GetRequiredService<IObjectStore>();
        var eraser = services.GetRequiredService<IProjectDataEraser>();

        Assert.Equal("local", keys.Backend);
        Assert.IsType<LocalKeyring>(keys);
        Assert.Equal(Path.Combine(_temp.Path, "data", "objects"), Assert.IsType<FileSystemObjectStore>(objects).Root);
        await keys.CreateProjectKeyAsync("p1");
        await objects.PutAsync("projects/p1/x", new MemoryStream([1]));
        var erasure = await eraser.EraseProjectAsync("p1");
        Assert.Equal(1, erasure.ObjectCount);
        Assert.True(File.Exists(Path.Combine(_temp.Path, "data", LocalKeyring.MasterKeyFileName)));
    }

    [Fact]
    public async Task AddVault_ObjectStoreRoot_CanBeConfigured()
    {
        var root = _temp.File("elsewhere");
        await using var services = Build(new() { ["Vault:ObjectStore:Root"] = root });

        Assert.Equal(root, Assert.IsType<FileSystemObjectStore>(services.GetRequiredService<IObjectStore>()).Root);
    }

    [Theory]
    [Trait("Requirement", "TIR-8")]
    [InlineData("Vault:KeyManagement:Backend", "vault-o-matic", "Backend must be 'local' or 'pkcs11'")]
    [InlineData("Vault:KeyManagement:MasterKeyEnvironmentVariable", "NOT A NAME", "MasterKeyEnvironmentVariable")]
    [InlineData("Vault:ObjectStore:Root", "relative/path", "Root must be an absolute path")]
    public async Task AddVault_WithBadOptions_FailsValidation(string key, string value, string message)
    {
        await using var services = Build(new() { [key] = value });

        var ex = Assert.Throws<OptionsValidationException>(() =>
        {
            _ = services.GetRequiredService<IOptions<KeyManagementOptions>>().Value;
            _ = services.GetRequiredService<IOptions<ObjectStoreOptions>>().Value;
        });
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public void Pkcs11Options_WithoutTokenOrPin_FailValidation_AndNeverShowThePin()
    {
        var validator = new KeyManagementOptionsValidator();
        var options = new KeyManagementOptions { Backend = "pkcs11", Pkcs11 = new Pkcs11Options { Library = "/nonexistent/lib.so", Pin = "secret-pin" } };

        var result = validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Library must be the absolute path of an existing PKCS#11 module", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("TokenLabel is required", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pin", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pin", options.Pkcs11.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task AddVault_MasterKeyFromEnvironment_IsUsed()
    {
        var variable = "SPE_TEST_MASTER_KEY_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        try
        {
            await using var services = Build(new() { ["Vault:KeyManagement:MasterKeyEnvironmentVariable"] = variable });

            var keys = Assert.IsType<LocalKeyring>(services.GetRequiredService<IProjectKeyStore>());

            Assert.True(keys.MasterKeyFromEnvironment);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    public void Dispose() => _temp.Dispose();

    private ServiceProvider Build(Dictionary<string, string?> settings)
    {
        settings.TryAdd("Vault:KeyManagement:MasterKeyEnvironmentVariable", "");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(DataDirectory.Open(_temp.File("data")));
        services.AddVault();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
