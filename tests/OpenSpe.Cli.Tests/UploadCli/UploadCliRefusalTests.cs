using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Cli.Tests.UploadCli;

/// <summary>
/// <c>spe upload</c> of a file the permit refuses, against the real server (HTTPS on loopback, pinned): the server's 403 comes
/// back before anything is encrypted or sent, is shown as the server wrote it, is never retried, and leaves nothing behind.
/// </summary>
public sealed class UploadCliRefusalTests
{
    // Note: above 20 MB, as in the report (#12): the first chunk of such a file no longer fits what the server drains after an early answer.
    private const int Size = (21 * 1024 * 1024) + 17;
    private const string Refusal = "The permit does not allow uploading '.bin' files.";

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task A_file_type_the_permit_refuses_is_refused_before_a_byte_is_encrypted_with_the_servers_message_and_nothing_left()
    {
        await using var f = await StartAsync();
        var projectId = await IssueCsvOnlyPermitAsync(f);
        await using var harness = UploadHarness.ForServer(f.Server, await f.Server.TokenForAccountAsync("holder"));
        var (path, _) = harness.WritePlaintext("scan.bin", Size);
        // Note: a file where the encrypted copies go, so that encrypting (which writes the copy) would fail with an error of its
        // own: the server's refusal can only be what is shown if it came before the first encrypted byte.
        Directory.CreateDirectory(harness.CacheDirectory);
        await File.WriteAllTextAsync(harness.StagingDirectory, "not a directory", TestContext.Current.CancellationToken);

        var (code, _, stderr) = await harness.RunAsync("upload", "--project", projectId, "--dataset", "omop-2026", path);

        Assert.Equal(1, code);
        Assert.Contains($"spe: scan.bin: {Refusal}", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("retrying", stderr, StringComparison.Ordinal);
        Assert.Equal("not a directory", await File.ReadAllTextAsync(harness.StagingDirectory, TestContext.Current.CancellationToken));
        Assert.Empty(harness.StateFiles());
        await AssertRefusedOnceAndNothingSentAsync(f, projectId);
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task A_pre_encrypted_file_of_a_refused_type_gets_the_403_before_its_body_and_it_is_not_retried()
    {
        await using var f = await StartAsync();
        var projectId = await IssueCsvOnlyPermitAsync(f);
        await using var harness = UploadHarness.ForServer(f.Server, await f.Server.TokenForAccountAsync("holder"));
        using var holder = await f.Server.ClientForAccountAsync("holder");
        var key = (await holder.GetFromJsonAsync<ProjectPublicKeyView>($"/api/v1/projects/{projectId}/public-key", TestContext.Current.CancellationToken))!;
        var plaintext = RandomNumberGenerator.GetBytes(Size);
        using var encrypted = new MemoryStream();
        Crypt4ghFile.Encrypt(new MemoryStream(plaintext), encrypted, [Crypt4ghPublicKey.Parse(key.PublicKey)]);
        var path = harness.WriteFile("scan.bin.c4gh", encrypted.ToArray());

        var (code, _, stderr) = await harness.RunAsync("upload", "--project", projectId, "--dataset", "omop-2026", path,
            "--plaintext-sha256", Convert.ToHexStringLower(SHA256.HashData(plaintext)));

        // The whole file is the first chunk of a creation-with-upload POST; the answer is read, not a broken connection.
        Assert.Equal(1, code);
        Assert.Contains($"spe: scan.bin.c4gh: {Refusal}", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("retrying", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot reach", stderr, StringComparison.Ordinal);
        Assert.Empty(harness.StateFiles());
        await AssertRefusedOnceAndNothingSentAsync(f, projectId);
    }

    [Fact]
    public async Task Against_a_server_without_concatenation_a_refusal_at_creation_leaves_no_encrypted_copy_and_is_not_retried()
    {
        // Such a server needs the plaintext's SHA-256 at creation, so the file is encrypted (and hashed) first; the copy then goes.
        await using var harness = await UploadHarness.StartAsync();
        harness.Server.CreationRefusal = Refusal;
        var (path, _) = harness.WritePlaintext("scan.bin", 100_000);

        var (code, _, stderr) = await harness.RunAsync("upload", "--project", FakeTusServer.Project, "--dataset", FakeTusServer.Dataset, path);

        Assert.Equal(1, code);
        Assert.Contains($"spe: scan.bin: {Refusal}", stderr, StringComparison.Ordinal);
        Assert.Single(harness.Server.Tus, r => r.Method == "POST");
        Assert.Empty(harness.StagedFiles());
        Assert.Empty(harness.StateFiles());
    }

    private static Task<PermitFixture> StartAsync() => PermitFixture.StartAsync(new Dictionary<string, string?> { ["Uploads:MaxUploadBytes"] = "100000000" });

    private static async Task<string> IssueCsvOnlyPermitAsync(PermitFixture f)
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        return (await f.IssueAsync(document)).ProjectId;
    }

    /// <summary>One creation, refused for the file type; no upload kept, no byte appended, no file stored.</summary>
    private static async Task AssertRefusedOnceAndNothingSentAsync(PermitFixture f, string projectId)
    {
        var records = await f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery());
        var refused = Assert.Single(records, r => r.Action == "uploads.create" && r.Outcome == "denied");
        Assert.Equal(403, refused.HttpStatus);
        Assert.Contains("file-type-not-allowed", refused.DetailsJson, StringComparison.Ordinal);
        Assert.DoesNotContain(records, r => r.Action == "uploads.append");
        await using var scope = f.Server.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        Assert.Empty(await database.Uploads.Where(u => u.ProjectId == projectId).ToListAsync(TestContext.Current.CancellationToken));
        Assert.Empty(await database.ProjectFiles.Where(u => u.ProjectId == projectId).ToListAsync(TestContext.Current.CancellationToken));
    }
}
