using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Cli.Client;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Audit;
using OpenSpe.Cli.Tests.CliClient;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// <c>spe audit witness</c> and <c>spe audit verify --witness</c> as an auditor runs them (the real
/// executable, a real server, real tokens): each of the four ways to rewrite the log that the stored
/// checkpoints alone cannot reveal is caught and the witnessed sequence and hash are named; the
/// witness refuses checkpoints that are older, disagree or are signed by another key.
/// </summary>
public sealed class AuditWitnessCliTests
{
    [Theory]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "OPR-7")]
    [Trait("Requirement", "OPR-17")]
    [InlineData("truncate", "witness-missing")]
    [InlineData("delete-checkpoints", "witness-missing")]
    [InlineData("empty", "witness-missing")]
    [InlineData("rewrite", "witness-mismatch")]
    public async Task Verify_with_a_witness_catches_the_attack_that_verify_alone_misses(string attack, string problem)
    {
        using var directory = new TempDirectory();
        using var config = new TempDirectory();
        var witness = config.File("witness.jsonl");
        var server = await SpeTestServer.StartAsync(reuseDirectory: directory.Path);
        await SignInAsAsync(server, config.Path, "auditor");
        using (var auditor = await server.ClientAsAsync("carol", "auditor"))
        {
            for (var i = 0; i < 5; i++)
            {
                await auditor.GetAsync("/api/v1/server/info");
            }
        }

        await server.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();
        var saved = await SpeClientProcess.RunAsync(config.Path, null, "audit", "witness", "--server", server.BaseAddress.AbsoluteUri, "--out", witness);
        var database = server.Database;
        await server.DisposeAsync();
        var data = Path.Combine(directory.Path, "data");
        var untouched = await SpeProcess.RunAsync("audit", "verify", "--data-dir", data, "--witness", witness);
        var held = AuditWitnessFile.ReadAll(witness).Single().Checkpoint;

        await AuditAttacks.ApplyAsync(database, attack);
        var alone = await SpeProcess.RunAsync("audit", "verify", "--data-dir", data, "--json");
        var witnessed = await SpeProcess.RunAsync("audit", "verify", "--data-dir", data, "--witness", witness, "--json");
        var table = await SpeProcess.RunAsync("audit", "verify", "--data-dir", data, "--witness", witness);

        Assert.True(saved.ExitCode == 0, saved.Stderr);
        Assert.True(untouched.ExitCode == 0, untouched.Stdout + untouched.Stderr);
        Assert.Equal(attack == "empty" ? 1 : 0, alone.ExitCode);
        Assert.Equal(1, witnessed.ExitCode);
        var result = JsonDocument.Parse(witnessed.Stdout).RootElement;
        Assert.False(result.GetProperty("valid").GetBoolean());
        Assert.Equal(problem, result.GetProperty("problem").GetString());
        Assert.Contains($"sequence {held.Sequence} (hash {held.Hash})", result.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains(witness, result.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Matches(@"Result\s+INVALID", table.Stdout);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Witness_appends_newer_checkpoints_and_skips_an_unchanged_head()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var config = new TempDirectory();
        var witness = config.File("witness.jsonl");
        await SignInAsAsync(server, config.Path, "auditor");
        var writer = server.Services.GetRequiredService<AuditWriter>();

        await writer.SignCheckpointNowAsync();
        var first = await SpeClientProcess.RunAsync(config.Path, null, "audit", "witness", "--out", witness);
        await writer.SignCheckpointNowAsync();
        var second = await SpeClientProcess.RunAsync(config.Path, null, "audit", "witness", "--out", witness, "--json");
        var lines = AuditWitnessFile.ReadAll(witness);

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("pinned", first.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, lines.Count);
        Assert.True(lines[1].Checkpoint.Sequence > lines[0].Checkpoint.Sequence, "the witness's own request was audited, so the head moved");
        Assert.True(JsonDocument.Parse(second.Stdout).RootElement.GetProperty("saved").GetBoolean());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Witness_refuses_a_checkpoint_older_than_the_one_it_holds_and_leaves_the_file_unchanged()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var config = new TempDirectory();
        var witness = config.File("witness.jsonl");
        await SignInAsAsync(server, config.Path, "auditor");
        await server.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();
        // What the witness saw before the log was cut back: a later head signed by the server's own key.
        var key = server.Services.GetRequiredService<AuditSigningKey>();
        var later = key.Sign(1_000, new byte[32], AuditTime.ToMicros(DateTimeOffset.UtcNow), AuditCheckpointKinds.Periodic);
        AuditWitnessFile.Append(witness, AuditCheckpointDocument.From(later, key));
        var before = await File.ReadAllTextAsync(witness);

        var result = await SpeClientProcess.RunAsync(config.Path, null, "audit", "witness", "--out", witness);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("spe: refusing to save", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("older than the one the witness holds at sequence 1000", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(witness));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Witness_refuses_a_checkpoint_that_disagrees_at_the_same_sequence()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var config = new TempDirectory();
        var witness = config.File("witness.jsonl");
        await SignInAsAsync(server, config.Path, "auditor");
        var writer = server.Services.GetRequiredService<AuditWriter>();
        await writer.SignCheckpointNowAsync();
        var key = server.Services.GetRequiredService<AuditSigningKey>();
        // What the witness saw before a rewrite: the head the server serves now, with another hash.
        var other = key.Sign(writer.HeadSequence, Enumerable.Repeat((byte)7, 32).ToArray(), AuditTime.ToMicros(DateTimeOffset.UtcNow.AddHours(-1)), AuditCheckpointKinds.Periodic);
        AuditWitnessFile.Append(witness, AuditCheckpointDocument.From(other, key));

        var result = await SpeClientProcess.RunAsync(config.Path, null, "audit", "witness", "--out", witness);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("refusing to save", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("the log was rewritten", result.Stderr, StringComparison.Ordinal);
        Assert.Single(AuditWitnessFile.ReadAll(witness));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Witness_refuses_a_checkpoint_not_signed_by_the_pinned_key()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var config = new TempDirectory();
        var witness = config.File("witness.jsonl");
        await SignInAsAsync(server, config.Path, "auditor");
        await server.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();
        using var other = AuditSigningKey.Generate();
        var pinned = config.File("other.pub");
        await File.WriteAllTextAsync(pinned, other.ExportPublicKeyPem());

        var result = await SpeClientProcess.RunAsync(config.Path, null, "audit", "witness", "--out", witness, "--public-key", pinned);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"not signed by the pinned key {other.KeyId}", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(witness));
    }

    [Theory]
    [Trait("Requirement", "TIR-7")]
    [InlineData("researcher")]
    [InlineData("operator")]
    [InlineData("admin")]
    public async Task Witness_as_another_role_is_refused_by_the_server(string role)
    {
        await using var server = await SpeTestServer.StartAsync();
        using var config = new TempDirectory();
        await SignInAsAsync(server, config.Path, role);
        await server.Services.GetRequiredService<AuditWriter>().SignCheckpointNowAsync();

        var result = await SpeClientProcess.RunAsync(config.Path, null, "audit", "witness", "--out", config.File("w.jsonl"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("roles do not allow", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(config.File("w.jsonl")));
    }

    [Fact]
    public async Task Witness_without_a_session_or_for_another_server_exits_with_a_hint()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var config = new TempDirectory();

        var none = await SpeClientProcess.RunAsync(config.Path, null, "audit", "witness", "--out", config.File("w.jsonl"));
        await SignInAsAsync(server, config.Path, "auditor");
        var other = await SpeClientProcess.RunAsync(config.Path, null, "audit", "witness", "--server", "https://elsewhere.test:8443", "--out", config.File("w.jsonl"));
        var missingOut = await SpeClientProcess.RunAsync(config.Path, null, "audit", "witness");

        Assert.Equal(1, none.ExitCode);
        Assert.Contains("not signed in", none.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, other.ExitCode);
        Assert.Contains("spe login --server https://elsewhere.test:8443", other.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, missingOut.ExitCode);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Verify_refuses_a_witness_file_that_does_not_exist_or_is_not_checkpoints()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var config = new TempDirectory();
        var data = Path.Combine(server.DataDirectory, "data");
        var garbage = config.File("garbage.jsonl");
        await File.WriteAllTextAsync(garbage, "{\"sequence\":\"x\"}\n");

        var missing = await SpeProcess.RunAsync("audit", "verify", "--data-dir", data, "--witness", config.File("nope.jsonl"));
        var malformed = await SpeProcess.RunAsync("audit", "verify", "--data-dir", data, "--witness", garbage);

        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("does not exist", missing.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, malformed.ExitCode);
        Assert.Contains("line 1", malformed.Stderr, StringComparison.Ordinal);
    }

    private static async Task SignInAsAsync(SpeTestServer server, string configDirectory, string role) =>
        new CredentialStore(configDirectory).Save(new StoredCredentials(
            server.BaseAddress.ToString(), server.Info.CertificateFingerprint, "carol", await server.TokenForAsync("carol", role), DateTimeOffset.UtcNow.AddMinutes(9), null));
}
