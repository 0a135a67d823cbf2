using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using System.Xml;
using System.Xml.Linq;
using OpenSpe.Cli.Tests.UploadCli;
using OpenSpe.Server.Tests.Portal;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// <c>spe compliance report</c> (OPR-6, OPR-7): all 119 requirement IDs of the spec with their status and tests, as JSON for
/// tools and as well-formed HTML without script for auditors; with <c>--server</c> the live evidence, which the server
/// refuses to other roles (each item then says "not available" and why).
/// </summary>
public sealed class ComplianceReportTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;
    private readonly TempDirectory _directory = new();

    public async ValueTask InitializeAsync() => _server = await SpeTestServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    [Trait("Requirement", "OPR-6")]
    public async Task The_json_report_lists_all_119_requirement_ids_with_status_and_tests()
    {
        await using var harness = UploadHarness.ForServer(_server, await _server.TokenForAccountAsync("auditor"));
        var path = _directory.File("report.json");

        var (code, stdout, stderr) = await harness.RunAsync("compliance", "report", "--format", "json", "--out", path);

        Assert.True(code == 0, stderr);
        Assert.Contains("119 requirements", stdout, StringComparison.Ordinal);
        var report = JsonDocument.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken)).RootElement;
        var requirements = report.GetProperty("requirements").EnumerateArray().ToList();
        Assert.Equal(119, requirements.Count);
        Assert.Equal(119, requirements.Select(r => r.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal("SDR-1", requirements[0].GetProperty("id").GetString());
        Assert.Equal(119, report.GetProperty("summary").GetProperty("total").GetInt32());
        var opr23 = requirements.Single(r => r.GetProperty("id").GetString() == "OPR-23");
        Assert.Equal("MUST", opr23.GetProperty("level").GetString());
        Assert.Contains(opr23.GetProperty("tests").EnumerateArray(), t => t.GetString()!.Contains("TrainingGateTests", StringComparison.Ordinal));
        Assert.All(requirements, r => Assert.Contains(r.GetProperty("status").GetString(), new[] { "done", "partial", "planned", "not traced" }));
        Assert.Equal(JsonValueKind.Null, report.GetProperty("server").ValueKind);
        Assert.Empty(report.GetProperty("evidence").EnumerateArray());
    }

    [Fact]
    [Trait("Requirement", "OPR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task With_the_server_an_auditor_gets_live_evidence_and_the_html_is_well_formed_without_script()
    {
        await using var harness = UploadHarness.ForServer(_server, await _server.TokenForAccountAsync("auditor"));
        var json = _directory.File("live.json");
        var html = _directory.File("live.html");

        var (jsonCode, _, jsonErr) = await harness.RunAsync("compliance", "report", "--server", _server.BaseAddress.ToString(), "--format", "json", "--out", json);
        var (htmlCode, _, htmlErr) = await harness.RunAsync("compliance", "report", "--server", _server.BaseAddress.ToString(), "--format", "html", "--out", html);

        Assert.True(jsonCode == 0, jsonErr);
        Assert.True(htmlCode == 0, htmlErr);
        var evidence = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken)).RootElement.GetProperty("evidence")
            .EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.True(evidence["audit-verification"].GetProperty("available").GetBoolean());
        Assert.Contains("verified", evidence["audit-verification"].GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.True(evidence["open-incidents"].GetProperty("available").GetBoolean());
        Assert.True(evidence["components"].GetProperty("available").GetBoolean());
        Assert.True(evidence["backup-and-restore-drill"].GetProperty("available").GetBoolean(), evidence["backup-and-restore-drill"].GetProperty("summary").GetString());
        Assert.Contains("Last restore drill: none recorded", evidence["backup-and-restore-drill"].GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.True(evidence["open-alerts"].GetProperty("available").GetBoolean());
        Assert.True(evidence["alert-rules"].GetProperty("available").GetBoolean(), evidence["alert-rules"].GetProperty("summary").GetString());
        Assert.Contains("signin-failures-per-account (counts auth.signin, threshold 5 per account in 00:15:00)", evidence["alert-rules"].GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Contains("(check DiskFree,", evidence["alert-rules"].GetProperty("summary").GetString(), StringComparison.Ordinal);
        var certificates = evidence["certificates"];
        Assert.True(certificates.GetProperty("available").GetBoolean(), certificates.GetProperty("summary").GetString());
        var tls = _server.Services.GetRequiredService<X509Certificate2>();
        Assert.StartsWith($"tls certificate {tls.Subject}, not after {new DateTimeOffset(tls.NotAfter.ToUniversalTime()).ToString("u", CultureInfo.InvariantCulture)}, ",
            certificates.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(tls.Subject, certificates.GetProperty("data").GetProperty("certificates")[0].GetProperty("subject").GetString());
        var document = XDocument.Load(XmlReader.Create(html, new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore }));
        Assert.DoesNotContain(document.Descendants(), e => e.Name.LocalName is "script" or "iframe" or "object" or "link");
        Assert.DoesNotContain(document.Descendants().Attributes(), a => a.Name.LocalName.StartsWith("on", StringComparison.Ordinal) || a.Value.Contains("javascript:", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(120, document.Descendants("tr").Count(r => r.Parent!.Elements("tr").First().Elements("th").Any(th => th.Value == "ID")));
    }

    [Fact]
    [Trait("Requirement", "OPR-6")]
    public async Task A_researcher_is_refused_the_api_evidence_and_each_item_says_not_available()
    {
        await using var harness = UploadHarness.ForServer(_server, await _server.TokenForAccountAsync("researcher"));
        var path = _directory.File("researcher.json");

        var (code, _, stderr) = await harness.RunAsync("compliance", "report", "--server", _server.BaseAddress.ToString(), "--format", "json", "--out", path);

        Assert.True(code == 0, stderr);
        var evidence = JsonDocument.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken)).RootElement.GetProperty("evidence").EnumerateArray().ToList();
        Assert.NotEmpty(evidence);
        Assert.All(evidence, e => Assert.False(e.GetProperty("available").GetBoolean()));
        Assert.Contains(evidence, e => e.GetProperty("summary").GetString()!.Contains("refused it to this account (403)", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "OPR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task The_portals_downloads_hold_the_same_report_as_the_cli_writes()
    {
        // Note: a checkpoint signed first, because the server signs its first one within Audit:CheckpointInterval of start, and
        // one signed between the two reads would make the checkpoint evidence available to one read and not the other.
        await _server.Services.GetRequiredService<OpenSpe.Server.Audit.AuditWriter>().SignCheckpointNowAsync(TestContext.Current.CancellationToken);
        await using var harness = UploadHarness.ForServer(_server, await _server.TokenForAccountAsync("auditor"));
        var cliJson = _directory.File("cli.json");
        var cliHtml = _directory.File("cli.html");
        Assert.Equal(0, (await harness.RunAsync("compliance", "report", "--server", _server.BaseAddress.ToString(), "--format", "json", "--out", cliJson)).Code);
        Assert.Equal(0, (await harness.RunAsync("compliance", "report", "--server", _server.BaseAddress.ToString(), "--format", "html", "--out", cliHtml)).Code);
        using var portal = new PortalBrowser(_server);
        using var _ = await portal.SignInAsync("auditor");

        using var portalJson = await portal.GetAsync("/compliance?handler=Json");
        using var portalHtml = await portal.GetAsync("/compliance?handler=Html");

        Assert.Equal(HttpStatusCode.OK, portalJson.StatusCode);
        Assert.Equal(HttpStatusCode.OK, portalHtml.StatusCode);
        var cli = JsonNode.Parse(await File.ReadAllTextAsync(cliJson, TestContext.Current.CancellationToken))!;
        var web = JsonNode.Parse(await portalJson.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        foreach (var member in new[] { "speVersion", "source", "server", "summary", "requirements" })
        {
            Assert.True(JsonNode.DeepEquals(cli[member], web[member]), $"{member} differs: {cli[member]?.ToJsonString()} / {web[member]?.ToJsonString()}");
        }

        // Note: the evidence is read anew by each (the audit chain grows with every request between them): the same items,
        // equally available, and the same words where the server's state did not change between the two reads.
        var cliEvidence = cli["evidence"]!.AsArray().ToDictionary(e => (string)e!["name"]!);
        var webEvidence = web["evidence"]!.AsArray().ToDictionary(e => (string)e!["name"]!);
        Assert.Equal(cliEvidence.Keys, webEvidence.Keys);
        Assert.All(cliEvidence.Keys, k => Assert.Equal((bool)cliEvidence[k]!["available"]!, (bool)webEvidence[k]!["available"]!));
        Assert.All(new[] { "backup-and-restore-drill", "certificates", "components", "open-incidents" },
            k => Assert.Equal((string)cliEvidence[k]!["summary"]!, (string)webEvidence[k]!["summary"]!));
        var cliPage = await File.ReadAllTextAsync(cliHtml, TestContext.Current.CancellationToken);
        var webPage = await portalHtml.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(cliPage[cliPage.IndexOf("<h2>Requirements</h2>", StringComparison.Ordinal)..], webPage[webPage.IndexOf("<h2>Requirements</h2>", StringComparison.Ordinal)..]);
    }

    [Fact]
    public async Task Evidence_from_a_server_other_than_the_one_signed_in_to_is_refused()
    {
        await using var harness = UploadHarness.ForServer(_server, await _server.TokenForAccountAsync("auditor"));

        var (code, _, stderr) = await harness.RunAsync("compliance", "report", "--server", "https://other.example:8443", "--format", "json", "--out", _directory.File("x.json"));

        Assert.NotEqual(0, code);
        Assert.Contains("not https://other.example:8443", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_directory.File("x.json")));
    }
}
