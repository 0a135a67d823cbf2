using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>The `spe` command: complete help, exit codes 0/1/2, tables by default and JSON with --json, offline audit tools.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Help_lists_every_verb_and_exits_0()
    {
        var (code, stdout, _) = await SpeProcess.RunAsync("--help");

        Assert.Equal(0, code);
        foreach (var verb in new[] { "server", "audit", "version", "login", "whoami", "logout", "account", "admin" })
        {
            Assert.Contains(verb, stdout, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("server", "--dev", "--data-dir", "--urls", "--config", "--database")]
    [InlineData("audit verify", "--data-dir", "--public-key", "--witness", "--json", "--server")]
    [InlineData("audit witness", "--server", "--out", "--public-key", "--json")]
    [InlineData("audit export", "--since", "--until", "--format", "--output", "--server", "today, yesterday")]
    [InlineData("project public-key", "--out", "--force", "--json")]
    [InlineData("dataset rm", "--json")]
    [InlineData("audit purge", "--retention-days", "--json")]
    [InlineData("audit public-key", "--data-dir", "--json")]
    [InlineData("backup create", "--data-dir", "--out", "--recipient-pk", "--database", "--config", "--json")]
    [InlineData("backup verify", "--sk", "--witness", "--public-key", "--database", "C4GH_PASSPHRASE")]
    [InlineData("backup restore", "--sk", "--data-dir", "--shred-ledger", "--public-key", "--database")]
    [InlineData("incident open", "--title", "--description", "--severity", "--detected", "--project")]
    [InlineData("incident notify", "--stage", "--to", "--content-file", "--sent")]
    [InlineData("incident halt", "--reason", "--json")]
    [InlineData("training record", "--account", "--role", "--course", "--completed", "--expires", "--json")]
    [InlineData("training list", "--account", "--json")]
    [InlineData("operations components", "--json")]
    [InlineData("compliance report", "--server", "--format", "--out")]
    public async Task Verb_help_documents_every_option(string verb, params string[] options)
    {
        var (code, stdout, _) = await SpeProcess.RunAsync([.. verb.Split(' '), "--help"]);

        Assert.Equal(0, code);
        Assert.All(options, o => Assert.Contains(o, stdout, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Login_help_shows_the_recovery_code_format_the_server_makes()
    {
        var (code, stdout, _) = await SpeProcess.RunAsync("login", "--help");

        Assert.Equal(0, code);
        Assert.Contains("10 capital letters and digits", string.Join(' ', stdout.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.DoesNotContain("XXXX-XXXX", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("spe", "frobnicate")]
    [InlineData("spe audit verify", "audit", "verify", "--no-such-flag")]
    [InlineData("spe audit export", "audit", "export", "--format", "xml")]
    [InlineData("spe admin user create", "admin", "user", "create")]
    [InlineData("spe project public-key", "project", "public-key")]
    [InlineData("spe dataset rm", "dataset", "rm", "p-1")]
    public async Task Bad_usage_exits_2_and_points_to_the_help_of_the_verb_that_failed(string verb, params string[] args)
    {
        var (code, _, stderr) = await SpeProcess.RunAsync(args);

        Assert.Equal(2, code);
        Assert.Contains($"Run '{verb} --help' for usage.", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--since", "last tuesday")]
    [InlineData("--since", "2026-12-01T10:00:00")]
    [InlineData("--until", "12/01/2026")]
    [InlineData("--until", "-5d")]
    public async Task Audit_export_with_a_time_it_cannot_read_says_what_it_accepts_and_exits_2(string option, string value)
    {
        using var directory = new TempDirectory();

        var (code, stdout, stderr) = await SpeProcess.RunAsync("audit", "export", "--data-dir", directory.Path, option, value);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.DoesNotContain("System.", stderr, StringComparison.Ordinal);
        Assert.Contains($"spe: {option} '{value}' is not a time: use an ISO 8601 time with an offset", stderr, StringComparison.Ordinal);
        Assert.Contains("today, yesterday, or a time back from now (30m, 24h, 7d)", stderr, StringComparison.Ordinal);
        Assert.Contains("Run 'spe audit export --help' for usage.", stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-8")]
    [Trait("Requirement", "OPR-17")]
    public async Task Purge_below_one_year_of_retention_is_refused()
    {
        using var directory = new TempDirectory();

        var (code, _, stderr) = await SpeProcess.RunAsync("audit", "purge", "--data-dir", directory.Path, "--retention-days", "364");

        Assert.Equal(2, code);
        Assert.Contains("at least 365", stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-3")]
    public async Task Production_server_without_certificate_exits_1_with_one_line()
    {
        using var directory = new TempDirectory();

        var (code, stdout, stderr) = await SpeProcess.RunAsync("server", "--data-dir", directory.File("d"), "--urls", "https://127.0.0.1:0");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("spe server: refusing to start without TLS", stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    public async Task Offline_verify_passes_on_an_untouched_copy_and_names_the_first_bad_record_after_tampering()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var client = await server.ClientAsAsync("a", "auditor");
        for (var i = 0; i < 5; i++)
        {
            await client.GetAsync("/api/v1/server/info");
        }

        var data = Path.Combine(server.DataDirectory, "data");
        var table = await SpeProcess.RunAsync("audit", "verify", "--data-dir", data);
        var json = await SpeProcess.RunAsync("audit", "verify", "--data-dir", data, "--json");
        await using (var connection = await server.Database.OpenConnectionAsync())
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "DELETE FROM audit_records WHERE sequence = 3";
            await command.ExecuteNonQueryAsync();
        }

        var tampered = await SpeProcess.RunAsync("audit", "verify", "--data-dir", data, "--json");

        Assert.Equal(0, table.ExitCode);
        Assert.Matches(@"Result\s+VALID", table.Stdout);
        Assert.True(JsonDocument.Parse(json.Stdout).RootElement.GetProperty("valid").GetBoolean());
        Assert.Equal(1, tampered.ExitCode);
        var result = JsonDocument.Parse(tampered.Stdout).RootElement;
        Assert.False(result.GetProperty("valid").GetBoolean());
        Assert.Equal(3, result.GetProperty("firstBadSequence").GetInt64());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Public_key_and_export_work_offline()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var client = await server.ClientAsAsync("a", "auditor");
        await client.GetAsync("/api/v1/server/info");
        var data = Path.Combine(server.DataDirectory, "data");
        var published = await server.Client.GetFromJsonAsync<JsonElement>("/api/v1/audit/public-key");

        var key = await SpeProcess.RunAsync("audit", "public-key", "--data-dir", data);
        var csv = await SpeProcess.RunAsync("audit", "export", "--data-dir", data, "--format", "csv");
        var jsonl = await SpeProcess.RunAsync("audit", "export", "--data-dir", data, "--since", "2000-01-01T00:00:00Z");
        var filtered = await SpeProcess.RunAsync("audit", "export", "--data-dir", data, "--actor", "a", "--action", "server.info");
        var otherActor = await SpeProcess.RunAsync("audit", "export", "--data-dir", data, "--actor", "b", "--action", "server.info");

        Assert.Equal(0, key.ExitCode);
        Assert.Equal(published.GetProperty("publicKeyPem").GetString()!.Trim(), key.Stdout.Trim());
        Assert.Equal(0, csv.ExitCode);
        Assert.StartsWith("sequence,timestamp,", csv.Stdout, StringComparison.Ordinal);
        Assert.Contains("server.info", csv.Stdout, StringComparison.Ordinal);
        Assert.All(jsonl.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => JsonDocument.Parse(line));
        Assert.Equal(0, filtered.ExitCode);
        var record = JsonDocument.Parse(Assert.Single(filtered.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))).RootElement;
        Assert.Equal(("server.info", "a"), (record.GetProperty("action").GetString(), record.GetProperty("actor").GetProperty("username").GetString()));
        Assert.Equal((0, ""), (otherActor.ExitCode, otherActor.Stdout));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Verify_against_a_key_kept_apart_refuses_a_log_resigned_by_an_attacker()
    {
        await using var server = await SpeTestServer.StartAsync();
        var data = Path.Combine(server.DataDirectory, "data");
        var trusted = Path.Combine(server.DataDirectory, "trusted.pub");
        File.WriteAllText(trusted, (await SpeProcess.RunAsync("audit", "public-key", "--data-dir", data)).Stdout);
        await server.Services.GetRequiredService<OpenSpe.Server.Audit.AuditWriter>().SignCheckpointNowAsync();
        // The attacker replaces the key pair in the data directory and re-signs a checkpoint with it.
        using var attacker = OpenSpe.Core.Audit.AuditSigningKey.Generate();
        await using (var connection = await server.Database.OpenConnectionAsync())
        {
            var head = await OpenSpe.Server.Audit.AuditStore.ReadHeadAsync(connection);
            await OpenSpe.Server.Audit.AuditStore.AppendAsync(connection, [], [attacker.Sign(head.Sequence, head.Hash, head.TimestampMicros, "periodic")]);
        }

        File.WriteAllText(Path.Combine(data, "audit-signing.pub"), attacker.ExportPublicKeyPem());

        var result = await SpeProcess.RunAsync("audit", "verify", "--data-dir", data, "--public-key", trusted);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("checkpoint-forged", result.Stdout, StringComparison.Ordinal);
    }
}
