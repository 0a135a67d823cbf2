using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenSpe.Contracts;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Operations.Components;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// The component inventory (OPR-3, OPR-4, OPR-28, OPR-29) through the real pipeline: operators and auditors read the build,
/// the runtime, the NuGet packages of the CycloneDX SBOM made at build, the system components with their versions and what
/// NuGet audit reported; HDAB officers read the same (the federated runner's identity goes into their permits); every other
/// role is refused.
/// </summary>
public sealed class ComponentInventoryTests(SharedServer shared) : IClassFixture<SharedServer>
{
    [Theory]
    [InlineData("operator")]
    [InlineData("auditor")]
    [InlineData("hdab")]
    [Trait("Requirement", "OPR-3")]
    [Trait("Requirement", "OPR-4")]
    [Trait("Requirement", "OPR-28")]
    [Trait("Requirement", "OPR-29")]
    [Trait("Requirement", "FCR-4")]
    public async Task Operators_auditors_and_hdab_officers_read_the_build_runtime_packages_and_system_components(string who)
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
        // What a permit's approvedComponents entry must carry for this SPE to run each built-in federated component (FCR-4).
        var federated = inventory.GetProperty("federated").EnumerateArray().ToList();
        var runner = FederatedComponentIdentity.Runner!;
        Assert.Equal(FederatedComponentIdentity.BuiltIn, federated.Select(f => f.GetProperty("name").GetString()));
        Assert.All(federated, f =>
        {
            Assert.Equal(runner.Version, f.GetProperty("version").GetString());
            Assert.Equal(runner.Sha256, f.GetProperty("sha256").GetString());
            Assert.Matches("^[0-9a-f]{64}$", f.GetProperty("sha256").GetString());
        });
    }

    [Theory]
    [InlineData("researcher")]
    [InlineData("holder")]
    [InlineData("checker")]
    [InlineData("admin")]
    [Trait("Requirement", "OPR-4")]
    [Trait("Requirement", "FCR-4")]
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

    [Fact]
    [Trait("Requirement", "OPR-28")]
    public void A_package_the_audit_named_is_flagged_with_its_advisory_and_the_others_are_not()
    {
        const string Sbom = """
            {"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"metadata":{"tools":{"components":[{"type":"application","name":"t"}]},
             "properties":[{"name":"openspe:nugetAudit","value":"true"},{"name":"openspe:nugetAuditMode","value":"all"},{"name":"openspe:nugetAuditFindings","value":"true"}]},
             "components":[{"type":"library","name":"B","version":"2.0.0","purl":"pkg:nuget/B@2.0.0"},{"type":"library","name":"a","version":"1.0.0","purl":"pkg:nuget/a@1.0.0"}],
             "vulnerabilities":[{"id":"https://github.com/advisories/GHSA-aaaa-bbbb-cccc","ratings":[{"severity":"high"}],"affects":[{"ref":"pkg:nuget/a@1.0.0"}]}]}
            """;

        var inventory = ComponentEndpoints.Inventory(SbomDocument.Parse(new MemoryStream(Encoding.UTF8.GetBytes(Sbom))), []);

        var flagged = Assert.Single(inventory.Packages, p => p.KnownVulnerable);
        Assert.Equal("a", flagged.Name);
        Assert.Equal(new PackageAdvisoryView("https://github.com/advisories/GHSA-aaaa-bbbb-cccc", "high"), Assert.Single(flagged.Advisories!));
        Assert.Null(inventory.Packages.Single(p => p.Name == "B").Advisories);
    }

    [Fact]
    [Trait("Requirement", "OPR-28")]
    public async Task The_build_step_reads_each_audit_finding_of_the_restore_with_its_package_severity_and_advisory()
    {
        // Note: the entries have the shape NuGet writes into project.assets.json's "logs" (one per finding, NU1901-NU1904);
        // NU1701 is another warning that must not be read as a vulnerability.
        const string Assets = """
            {"version":3,"logs":[
              {"code":"NU1903","level":"Warning","warningLevel":1,"message":"Package 'Some.Package' 1.2.3 has a known high severity vulnerability, https://github.com/advisories/GHSA-1111-2222-3333","libraryId":"Some.Package","targetGraphs":["net10.0"]},
              {"code":"NU1701","level":"Warning","warningLevel":1,"message":"Package 'Old.Package' 1.0.0 was restored using a fallback framework","libraryId":"Old.Package"},
              {"code":"NU1904","level":"Warning","warningLevel":1,"message":"Package 'Other' 4.0.0-rc.1 has a known critical severity vulnerability, https://github.com/advisories/GHSA-4444-5555-6666","libraryId":"Other","targetGraphs":["net10.0"]}
            ]}
            """;
        using var work = new TempDirectory();
        await File.WriteAllTextAsync(work.File("project.assets.json"), Assets, TestContext.Current.CancellationToken);
        var targets = Path.Combine(RepositoryRoot.Path, "src", "OpenSpe.Server", "Operations", "Components", "Sbom.targets");
        await File.WriteAllTextAsync(work.File("probe.proj"), $"""
            <Project>
              <Import Project="{targets}" />
              <Target Name="Probe">
                <OpenSpeReadAuditFindings AssetsFile="{work.File("project.assets.json")}">
                  <Output TaskParameter="Findings" ItemName="Found" />
                </OpenSpeReadAuditFindings>
                <Message Importance="high" Text="FOUND %(Found.PackageId) %(Found.PackageVersion) %(Found.Severity) %(Found.Advisory)" />
              </Target>
            </Project>
            """, TestContext.Current.CancellationToken);

        var start = new System.Diagnostics.ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", ["msbuild", work.File("probe.proj"), "-t:Probe", "-nologo", "-v:m"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = work.Path,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(process.ExitCode == 0, output + await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken));
        var found = output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("FOUND ", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            [
                "FOUND Other 4.0.0-rc.1 critical https://github.com/advisories/GHSA-4444-5555-6666",
                "FOUND Some.Package 1.2.3 high https://github.com/advisories/GHSA-1111-2222-3333",
            ],
            found);
    }
}
