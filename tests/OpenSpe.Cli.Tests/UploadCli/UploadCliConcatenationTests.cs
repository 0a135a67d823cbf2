using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OpenSpe.Cli.Tests.UploadCli;

/// <summary>
/// <c>spe upload</c> against a <see cref="FakeTusServer"/> that offers concatenation: the file is encrypted and sent at the
/// same time as a partial upload, and a final upload declares the plaintext SHA-256. Resume after an interruption, an
/// interruption before the copy was whole, and a lost answer to the final upload.
/// </summary>
public sealed class UploadCliConcatenationTests
{
    private const int MiB = 1024 * 1024;
    private const int FileSize = (6 * MiB) + 4321;

    private static string[] Upload(string file) =>
        ["upload", "--project", FakeTusServer.Project, "--dataset", FakeTusServer.Dataset, file, "--chunk-size", "1"];

    private static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    [Fact]
    [Trait("Requirement", "TIR-5")]
    [Trait("Requirement", "EHDSR-11")]
    public async Task The_file_is_sent_while_it_is_encrypted_and_the_final_upload_declares_its_hash()
    {
        await using var harness = await StartAsync();
        var (path, content) = harness.WritePlaintext("data.csv", FileSize);

        var (code, stdout, stderr) = await harness.RunAsync([.. Upload(path), "--json"]);

        Assert.True(code == 0, stderr);
        var posts = harness.Server.Tus.Where(r => r.Method == "POST").ToList();
        Assert.Equal(2, posts.Count);
        Assert.Equal("partial", posts[0].Headers["Upload-Concat"]);
        Assert.DoesNotContain("plaintextSha256", posts[0].Headers["Upload-Metadata"], StringComparison.Ordinal);
        Assert.StartsWith("final;/api/v1/projects/", posts[1].Headers["Upload-Concat"], StringComparison.Ordinal);
        Assert.False(posts[1].Headers.ContainsKey("Upload-Length"));
        var (completed, fileId, _) = Assert.Single(harness.Server.Completed);
        Assert.Equal(content, harness.Server.Decrypt(completed));
        Assert.Equal(Sha256(content), completed.Metadata["plaintextSha256"]);
        Assert.Equal("data.csv", completed.Metadata["filename"]);
        // Only ciphertext crossed the wire.
        Assert.Equal(-1, harness.Server.Received.ToArray().AsSpan().IndexOf(Encoding.ASCII.GetBytes(UploadHarness.Marker)));
        var result = Assert.Single(JsonDocument.Parse(stdout).RootElement.GetProperty("files").EnumerateArray());
        Assert.Equal(fileId, result.GetProperty("id").GetString());
        Assert.Equal(Sha256(content), result.GetProperty("plaintextSha256").GetString());
        Assert.Empty(harness.StateFiles());
        Assert.Empty(harness.StagedFiles());
        Assert.Empty(harness.Server.Uploads);
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task An_interrupted_upload_resumes_its_partial_upload_from_the_server_offset_and_then_completes_it()
    {
        await using var harness = await StartAsync();
        var (path, content) = harness.WritePlaintext("data.csv", FileSize);
        var key = await InterruptAfterTheCopyIsWholeAsync(harness, path);
        var partial = Assert.Single(harness.Server.Uploads.Values);
        Assert.Equal(2 * MiB, partial.Offset);
        var before = harness.Server.Tus.Count();

        var (code, _, stderr) = await harness.RunAsync(Upload(path));

        Assert.True(code == 0, stderr);
        Assert.Contains("resuming at 2.0 MiB", stderr, StringComparison.Ordinal);
        var second = harness.Server.Tus.Skip(before).ToList();
        Assert.Equal("HEAD", second[1].Method);
        Assert.Equal("2097152", second[2].Headers["Upload-Offset"]);
        var post = Assert.Single(second, r => r.Method == "POST");
        Assert.StartsWith("final;", post.Headers["Upload-Concat"], StringComparison.Ordinal);
        Assert.Equal(content, harness.Server.Decrypt(Assert.Single(harness.Server.Completed).Upload));
        Assert.Equal(Sha256(content), key.GetProperty("plaintextSha256").GetString());
        Assert.Empty(harness.StateFiles());
        Assert.Empty(harness.StagedFiles());
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task An_upload_interrupted_before_its_copy_was_whole_is_terminated_and_sent_again_from_the_start()
    {
        await using var harness = await StartAsync();
        var (path, content) = harness.WritePlaintext("data.csv", FileSize);
        await InterruptAfterTheCopyIsWholeAsync(harness, path);
        // As if the run had ended while the copy was still being encrypted: the state has no hash yet.
        var statePath = Assert.Single(harness.StateFiles());
        var state = JsonDocument.Parse(await File.ReadAllTextAsync(statePath, TestContext.Current.CancellationToken)).RootElement;
        var edited = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(state.GetRawText())!;
        edited["plaintextSha256"] = JsonDocument.Parse("\"\"").RootElement;
        await File.WriteAllTextAsync(statePath, JsonSerializer.Serialize(edited), TestContext.Current.CancellationToken);
        var abandoned = Assert.Single(harness.Server.Uploads.Keys);
        var before = harness.Server.Tus.Count();

        var (code, _, stderr) = await harness.RunAsync(Upload(path));

        Assert.True(code == 0, stderr);
        var second = harness.Server.Tus.Skip(before).ToList();
        Assert.Contains(second, r => r.Method == "DELETE" && r.Path.EndsWith(abandoned, StringComparison.Ordinal));
        Assert.Equal(["partial", "final"], second.Where(r => r.Method == "POST").Select(r => r.Headers["Upload-Concat"].Split(';')[0]));
        Assert.Equal(content, harness.Server.Decrypt(Assert.Single(harness.Server.Completed).Upload));
        Assert.Empty(harness.Server.Uploads);
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task A_lost_answer_to_the_final_upload_is_found_in_the_files_list_and_nothing_is_sent_twice()
    {
        await using var harness = await StartAsync();
        harness.Server.DropFinalResponse = true;
        var (path, content) = harness.WritePlaintext("data.csv", FileSize);

        var (code, stdout, stderr) = await harness.RunAsync(Upload(path));

        Assert.True(code == 0, stderr);
        var (completed, fileId, _) = Assert.Single(harness.Server.Completed);
        Assert.Equal(content, harness.Server.Decrypt(completed));
        Assert.Contains(fileId, stdout, StringComparison.Ordinal);
        Assert.Equal(2, harness.Server.Tus.Count(r => r.Method == "POST" && r.Headers["Upload-Concat"].StartsWith("final;", StringComparison.Ordinal)));
        Assert.Single(harness.Server.Tus, r => r.Method == "POST" && r.Headers["Upload-Concat"] == "partial");
        Assert.Empty(harness.StateFiles());
    }

    private static async Task<UploadHarness> StartAsync()
    {
        var harness = await UploadHarness.StartAsync();
        harness.Server.Concatenation = true;
        return harness;
    }

    /// <summary>Runs the upload until the server stalls after 2.5 MiB and the state records the finished copy's hash; then stops it. Returns the state.</summary>
    private static async Task<JsonElement> InterruptAfterTheCopyIsWholeAsync(UploadHarness harness, string path)
    {
        harness.Server.StallAfterBytes = (2 * MiB) + (MiB / 2);
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var first = harness.RunAsync(interrupt.Token, Upload(path));
        var ended = await Task.WhenAny(harness.Server.Stalled.Task, first).WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        Assert.True(ended == harness.Server.Stalled.Task, "the first upload ended before the server stalled");
        // Note: the copy is encrypted independently of the (stalled) upload; its hash lands in the state when it is whole.
        JsonElement state = default;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var file = harness.StateFiles().SingleOrDefault();
            if (file is not null)
            {
                state = JsonDocument.Parse(await File.ReadAllTextAsync(file, deadline.Token)).RootElement;
                if (state.GetProperty("plaintextSha256").GetString() is { Length: 64 })
                {
                    break;
                }
            }

            await Task.Delay(20, deadline.Token);
        }

        await interrupt.CancelAsync();
        await first;
        await harness.Server.WaitIdleAsync();
        return state;
    }
}
