using System.Text.Json;
using OpenSpe.Cli.Tests.CliClient;
using OpenSpe.Server.Tests.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>The documented example permit goes through the real CLI and server end to end (EHDSR-1, OPR-20).</summary>
public sealed class PermitCliEndToEndTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;
    private IdentityClient _identity = null!;
    private TempDirectory _config = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await SpeTestServer.StartAsync();
        _identity = new IdentityClient(_server);
        _config = new TempDirectory();
    }

    public async ValueTask DisposeAsync()
    {
        _config.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    [Trait("Requirement", "EHDSR-1")]
    [Trait("Requirement", "OPR-20")]
    public async Task Hdab_creates_the_documented_example_permit_and_an_operator_halts_its_project()
    {
        var example = Path.Combine(RepositoryRoot(), "docs", "examples", "permit.json");
        await LoginAsync(_config.Path, "hdab");

        var create = await SpeClientProcess.RunAsync(_config.Path, null, "permit", "create", "--file", example, "--json");
        var permit = JsonDocument.Parse(create.Stdout).RootElement;
        var id = permit.GetProperty("id").GetString()!;
        var projectId = permit.GetProperty("projectId").GetString()!;
        var show = await SpeClientProcess.RunAsync(_config.Path, null, "permit", "show", id);
        var document = await SpeClientProcess.RunAsync(_config.Path, null, "permit", "document", id);

        using var operatorConfig = new TempDirectory();
        await LoginAsync(operatorConfig.Path, "operator");
        var halt = await SpeClientProcess.RunAsync(operatorConfig.Path, null, "halt", "--project", projectId, "--reason", "drill");
        var ownResume = await SpeClientProcess.RunAsync(operatorConfig.Path, null, "resume", "--project", projectId);
        var hdabResume = await SpeClientProcess.RunAsync(_config.Path, null, "resume", "--project", projectId);

        Assert.True(create.ExitCode == 0, create.Stderr);
        Assert.Equal("HDAB-FI-2026-0042", permit.GetProperty("reference").GetString());
        Assert.Contains("omop-2026", show.Stdout, StringComparison.Ordinal);
        Assert.Equal(3, document.Stdout.Trim().Split('.').Length);
        Assert.True(halt.ExitCode == 0, halt.Stderr);
        Assert.Equal(1, ownResume.ExitCode);
        Assert.True(hdabResume.ExitCode == 0, hdabResume.Stderr);
    }

    private async Task LoginAsync(string configDirectory, string username)
    {
        var account = _identity.Account(username);
        var login = await SpeClientProcess.RunAsync(configDirectory, account.Password + "\n",
            "login", "--server", _server.BaseAddress.AbsoluteUri, "--user", username, "--password-stdin", "--otp", _identity.NextCode(account.TotpSecret),
            "--ca-fingerprint", _server.Info.CertificateFingerprint);
        Assert.True(login.ExitCode == 0, login.Stderr);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "OpenSpe.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
