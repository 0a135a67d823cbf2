using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenSpe.Crypt4gh;
using OpenSpe.Cli.Tests.Crypt4ghCli;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Cli.Tests.UploadCli;

/// <summary>
/// <c>spe project public-key</c> against the real server: the key file it writes is what <c>spe crypt4gh encrypt --recipient-pk</c>
/// reads, and a file encrypted with it is accepted by <c>spe upload</c> (the server decrypts and verifies it with the project's key).
/// </summary>
public sealed class ProjectPublicKeyCliTests : IAsyncLifetime
{
    private PermitFixture _fixture = null!;
    private string _projectId = null!;

    public async ValueTask InitializeAsync()
    {
        _fixture = await PermitFixture.StartAsync();
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        (_, _projectId) = await _fixture.IssueAsync(document);
    }

    public async ValueTask DisposeAsync() => await _fixture.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    public async Task The_key_file_encrypts_with_spe_crypt4gh_and_the_server_accepts_the_result()
    {
        await using var harness = UploadHarness.ForServer(_fixture.Server, await _fixture.Server.TokenForAccountAsync("holder"));
        var keyFile = harness.WriteFile("project.pub", []);
        File.Delete(keyFile);
        var plaintext = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 5000).Select(i => $"{i},person-{i % 97}")));

        var (code, stdout, stderr) = await harness.RunAsync("project", "public-key", _projectId, "--out", keyFile);
        var encrypted = await Crypt4ghCliRunner.RunAsync(plaintext, null, "crypt4gh", "encrypt", "--recipient-pk", keyFile);
        var c4gh = harness.WriteFile("cohort.csv.c4gh", encrypted.Stdout);
        var (uploadCode, _, uploadErr) = await harness.RunAsync("upload", "--project", _projectId, "--dataset", "omop-2026", c4gh,
            "--plaintext-sha256", Convert.ToHexStringLower(SHA256.HashData(plaintext)));

        Assert.True(code == 0, stderr);
        Assert.Equal("", stdout);
        using var holder = await _fixture.Server.ClientForAccountAsync("holder");
        var served = await holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/public-key");
        var fingerprint = served.GetProperty("fingerprint").GetString()!;
        Assert.Equal(fingerprint, Crypt4ghPublicKey.Load(keyFile).Fingerprint);
        Assert.Contains($"public key fingerprint (SHA-256): {fingerprint}", stderr, StringComparison.Ordinal);
        // Created 0644 (a public key is for sharing), less the process umask; never writable by others.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile) & ~(UnixFileMode.GroupRead | UnixFileMode.OtherRead));
        Assert.True(encrypted.ExitCode == 0, encrypted.Stderr);
        Assert.True(uploadCode == 0, uploadErr);
        var file = Assert.Single((await holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files")).EnumerateArray());
        Assert.Equal(plaintext.Length, file.GetProperty("plaintextSize").GetInt64());
    }

    [Fact]
    public async Task Without_out_the_key_file_goes_to_stdout_and_json_is_the_servers_view()
    {
        await using var harness = UploadHarness.ForServer(_fixture.Server, await _fixture.Server.TokenForAccountAsync("researcher"));

        var (code, pem, _) = await harness.RunAsync("project", "public-key", _projectId);
        var (jsonCode, json, _) = await harness.RunAsync("project", "public-key", _projectId, "--json");

        Assert.Equal((0, 0), (code, jsonCode));
        Assert.StartsWith("-----BEGIN CRYPT4GH PUBLIC KEY-----\n", pem, StringComparison.Ordinal);
        var view = JsonDocument.Parse(json).RootElement;
        Assert.Equal(pem, view.GetProperty("publicKey").GetString());
        Assert.Equal(Crypt4ghPublicKey.Parse(pem).Fingerprint, view.GetProperty("fingerprint").GetString());
    }

    [Fact]
    public async Task An_existing_file_is_kept_unless_force_is_given()
    {
        await using var harness = UploadHarness.ForServer(_fixture.Server, await _fixture.Server.TokenForAccountAsync("holder"));
        var keyFile = harness.WriteFile("project.pub", Encoding.UTF8.GetBytes("mine"));

        var (code, _, stderr) = await harness.RunAsync("project", "public-key", _projectId, "--out", keyFile);
        var kept = await File.ReadAllTextAsync(keyFile);
        var (forcedCode, _, _) = await harness.RunAsync("project", "public-key", _projectId, "--out", keyFile, "--force");

        Assert.Equal(1, code);
        Assert.Contains("exists; give --force to replace it", stderr, StringComparison.Ordinal);
        Assert.Equal("mine", kept);
        Assert.Equal(0, forcedCode);
        Assert.StartsWith("-----BEGIN CRYPT4GH PUBLIC KEY-----", await File.ReadAllTextAsync(keyFile), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("operator")]
    [InlineData("auditor")]
    [InlineData("admin")]
    [InlineData("checker")]
    public async Task Non_members_are_refused_with_the_servers_message_and_no_file_is_written(string account)
    {
        await using var harness = UploadHarness.ForServer(_fixture.Server, await _fixture.Server.TokenForAccountAsync(account));
        var keyFile = harness.WriteFile("project.pub", []);
        File.Delete(keyFile);

        var (code, stdout, stderr) = await harness.RunAsync("project", "public-key", _projectId, "--out", keyFile);

        Assert.Equal((1, ""), (code, stdout));
        Assert.Matches(@"^spe: .+ \(SPE\d{4}, trace [0-9a-f]{32}\)\n$", stderr);
        Assert.False(File.Exists(keyFile));
    }

    [Fact]
    public async Task A_halted_project_an_unknown_project_and_bad_usage_are_refused()
    {
        await using var harness = UploadHarness.ForServer(_fixture.Server, await _fixture.Server.TokenForAccountAsync("holder"));
        using (var halt = await _fixture.PostAsAsync("operator", "/api/v1/halts", new { projectId = _projectId, reason = "suspected exfiltration" }))
        {
            Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        }

        var (haltedCode, _, haltedErr) = await harness.RunAsync("project", "public-key", _projectId);
        var (unknownCode, _, unknownErr) = await harness.RunAsync("project", "public-key", "p-does-not-exist");
        var (usageCode, _, usageErr) = await harness.RunAsync("project", "public-key", _projectId, "--json", "--out", "x.pub");

        Assert.Equal(1, haltedCode);
        Assert.Contains("(SPE3001", haltedErr, StringComparison.Ordinal);
        Assert.Equal(1, unknownCode);
        Assert.StartsWith("spe: ", unknownErr, StringComparison.Ordinal);
        Assert.Equal(2, usageCode);
        Assert.Contains("Run 'spe project public-key --help' for usage.", usageErr, StringComparison.Ordinal);
    }
}
