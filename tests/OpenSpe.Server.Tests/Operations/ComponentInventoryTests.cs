using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenSpe.Server.Operations.Components;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// The component inventory (OPR-3, OPR-4, OPR-28, OPR-29) through the real pipeline: operators and auditors read the build,
/// the runtime, the NuGet packages of the CycloneDX SBOM made at build, the system components with their versions and what
/// NuGet audit reported; every other role is refused.
/// </summary>
public sealed class ComponentInventoryTests(SharedServer shared) : IClassFixture<SharedServer>
{
    [Theory]
    [InlineData("operator")]
    [InlineData("auditor")]
    [Trait("Requirement", "OPR-3")]
    [Trait("Requirement", "OPR-4")]
    [Trait("Requirement", "OPR-28")]
    [Trait("Requirement", "OPR-29")]
    public async Task Operators_and_auditors_read_the_build_runtime_packages_and_system_components(string who)
    {
        using var client = await shared.Server.ClientForAccountAsync(who);

        var inventory = await client.GetFromJsonAsync<JsonElement>("/api/v1/operations/components", TestContext.Current.CancellationToken);

        Assert.Equal(Environment.Version.ToString(), inventory.GetProperty("runtime").GetProperty("version").GetString());
        Assert.False(string.IsNullOrEmpty(inventory.GetProperty("spe").GetProperty("version").GetString()));
        Assert.Equal("CycloneDX 1.5", inventory.GetProperty("sbom").GetProperty("format").GetString());
        var packages = inventory.GetProperty("packages").EnumerateArray().ToList();
        // Note: the version Directory.Packages.props pins, as restored at build.
        var pkcs11 = Assert.Single(packages, p => p.GetProperty("name").GetString() == "Pkcs11Interop");
        Assert.Equal("5.3.0", pkcs11.GetProperty("version").GetString());
        Assert.Equal("pkg:nuget/Pkcs11Interop@5.3.0", pkcs11.GetProperty("purl").GetString());
        Assert.Contains(packages, p => p.GetProperty("name").GetString() == "Npgsql");
        Assert.Equal(packages.Count, inventory.GetProperty("sbom").GetProperty("packageCount").GetInt32());
        var audit = inventory.GetProperty("audit");
        Assert.True(audit.GetProperty("enabled").GetBoolean());
        Assert.Equal("all", audit.GetProperty("mode").GetString());
        Assert.False(audit.GetProperty("findingsAtBuild").GetBoolean());
        Assert.All(packages, p => Assert.False(p.GetProperty("knownVulnerable").GetBoolean()));
        var system = inventory.GetProperty("system").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(["SQLite", "bubblewrap", "TigerVNC", "SoftHSM2"], system.Keys);
        Assert.Matches(@"^\d+\.\d+", system["SQLite"].GetProperty("version").GetString());
        Assert.Equal(File.Exists("/usr/bin/bwrap"), system["bubblewrap"].GetProperty("found").GetBoolean());
        Assert.Equal(File.Exists("/usr/bin/softhsm2-util"), system["SoftHSM2"].GetProperty("found").GetBoolean());
    }

    [Theory]
    [InlineData("hdab")]
    [InlineData("researcher")]
    [InlineData("holder")]
    [InlineData("checker")]
    [InlineData("admin")]
    [Trait("Requirement", "OPR-4")]
    public async Task Other_roles_are_refused(string who)
    {
        using var client = await shared.Server.ClientForAccountAsync(who);

        var response = await client.GetAsync("/api/v1/operations/components", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "OPR-4")]
    public async Task Without_a_second_factor_or_a_token_it_is_refused()
    {
        using var password = shared.Server.ClientWithToken(await shared.Server.PasswordOnlyTokenAsync("inventory-nomfa", "operator"));

        Assert.Equal(HttpStatusCode.Forbidden, (await password.GetAsync("/api/v1/operations/components", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await shared.Server.Client.GetAsync("/api/v1/operations/components", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    [Trait("Requirement", "OPR-28")]
    public void A_build_whose_audit_reported_a_finding_flags_every_package_rather_than_none()
    {
        const string Sbom = """
            {"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{"tools":{"components":[{"type":"application","name":"t"}]},
             "properties":[{"name":"openspe:nugetAudit","value":"true"},{"name":"openspe:nugetAuditMode","value":"all"},{"name":"openspe:nugetAuditFindings","value":"true"}]},
             "components":[{"type":"library","name":"B","version":"2.0.0","purl":"pkg:nuget/B@2.0.0"},{"type":"library","name":"a","version":"1.0.0","purl":"pkg:nuget/a@1.0.0"}]}
            """;

        var inventory = ComponentEndpoints.Inventory(SbomDocument.Parse(new MemoryStream(Encoding.UTF8.GetBytes(Sbom))), []);

        Assert.True(inventory.Audit.FindingsAtBuild);
        Assert.Equal(["a", "B"], inventory.Packages.Select(p => p.Name));
        Assert.All(inventory.Packages, p => Assert.True(p.KnownVulnerable));
        Assert.Contains("known vulnerability", inventory.Audit.Note, StringComparison.Ordinal);
    }
}
