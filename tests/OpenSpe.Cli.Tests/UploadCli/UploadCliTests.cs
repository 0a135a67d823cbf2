using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Cli.Tests.UploadCli;

/// <summary>
/// <c>spe upload</c> and <c>spe dataset list</c> against <see cref="FakeTusServer"/> (real HTTPS on loopback, pinned): client-side
/// encryption, checksummed tus chunks, resume after a dropped connection, a 409, a 460 and a killed process, the 422 path,
/// pre-encrypted files, and the key fingerprint checks.
/// </summary>
public sealed class UploadCliTests
{
    private const int MiB = 1024 * 1024;
    private const int FileSize = (3 * MiB) + 12345;

    private static string[] Upload(string file, params string[] extra) =>
        ["upload", "--project", FakeTusServer.Project, "--dataset", FakeTusServer.Dataset, file, "--chunk-size", "1", .. extra];

    private static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task FakeTusServer_receives_only_checksummed_ciphertext_that_decrypts_to_the_original_with_checksum()
    {
        await using var harness = await UploadHarness.StartAsync();
        var (path, content) = harness.WritePlaintext("data.csv", FileSize);

        var (code, stdout, stderr) = await harness.RunAsync(Upload(path, "--checksum"));

        Assert.True(code == 0, stderr);
        var server = harness.Server;
        var (upload, fileId, _) = Assert.Single(server.Completed);
        Assert.Equal(content, server.Decrypt(upload));
        Assert.Contains(Sha256(content), stdout, StringComparison.Ordinal);
        Assert.Contains(fileId, stdout, StringComparison.Ordinal);
        Assert.Contains(server.ProjectKey.PublicKey.Fingerprint, stderr, StringComparison.Ordinal);
        Assert.Contains("100%", stderr, StringComparison.Ordinal);

        // Nothing but ciphertext crossed the wire.
        var received = server.Received.ToArray();
        Assert.Equal(upload.Data.ToArray(), received);
        Assert.True(received.AsSpan().StartsWith("crypt4gh"u8));
        Assert.Equal(-1, received.AsSpan().IndexOf(Encoding.ASCII.GetBytes(UploadHarness.Marker)));
        Assert.Equal(OpenSpe.Cli.Transfers.Crypt4ghStaging.CiphertextLength(FileSize), received.Length);

        // tus: every request says Tus-Resumable 1.0.0; POST carries the metadata and the first chunk; PATCHes follow in order, each with a correct sha256 checksum.
        var tus = server.Tus.ToList();
        Assert.All(tus, r => Assert.Equal("1.0.0", r.Headers.GetValueOrDefault("Tus-Resumable")));
        Assert.Equal(["OPTIONS", "POST", "PATCH", "PATCH", "PATCH"], tus.Select(r => r.Method));
        var post = tus[1];
        Assert.Equal(upload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), post.Headers["Upload-Length"]);
        Assert.Equal(MiB, post.BodyBytes);
        Assert.Equal(FakeTusServer.Dataset, upload.Metadata["dataset"]);
        Assert.Equal("data.csv", upload.Metadata["filename"]);
        Assert.Equal(Sha256(content), upload.Metadata["plaintextSha256"]);
        Assert.All(tus.Skip(1), r =>
        {
            Assert.StartsWith("sha256 ", r.Headers["Upload-Checksum"], StringComparison.Ordinal);
            Assert.True(r.ChecksumMatched);
            Assert.Equal("application/offset+octet-stream", r.Headers["Content-Type"]);
        });
        Assert.Equal(["1048576", "2097152", "3145728"], tus.Where(r => r.Method == "PATCH").Select(r => r.Headers["Upload-Offset"]));

        // Done: no state to resume, no encrypted copy left in the cache.
        Assert.Empty(harness.StateFiles());
        Assert.Empty(harness.StagedFiles());
    }

    [Fact]
    public async Task FakeTusServer_upload_json_output_names_the_file_sizes_and_both_checksums()
    {
        await using var harness = await UploadHarness.StartAsync();
        var (path, content) = harness.WritePlaintext("small.txt", 1000);

        var (code, stdout, stderr) = await harness.RunAsync(Upload(path, "--json"));

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(harness.Server.ProjectKey.PublicKey.Fingerprint, root.GetProperty("keyFingerprint").GetString());
        var file = Assert.Single(root.GetProperty("files").EnumerateArray());
        var (upload, fileId, _) = Assert.Single(harness.Server.Completed);
        Assert.Equal(fileId, file.GetProperty("id").GetString());
        Assert.Equal(1000, file.GetProperty("plaintextSize").GetInt64());
        Assert.Equal(upload.Length, file.GetProperty("size").GetInt64());
        Assert.Equal(Sha256(content), file.GetProperty("plaintextSha256").GetString());
        Assert.Equal(Sha256(upload.Data.ToArray()), file.GetProperty("sha256").GetString());
        Assert.Empty(root.GetProperty("failed").EnumerateArray());

        // The whole file fitted in the POST (creation-with-upload).
        Assert.Equal(["OPTIONS", "POST"], harness.Server.Tus.Select(r => r.Method));
    }

    [Fact]
    public async Task FakeTusServer_without_Upload_File_Id_is_looked_up_in_the_files_list()
    {
        await using var harness = await UploadHarness.StartAsync();
        harness.Server.SendFileId = false;
        var (path, _) = harness.WritePlaintext("data.csv", FileSize);

        var (code, stdout, stderr) = await harness.RunAsync(Upload(path));

        Assert.True(code == 0, stderr);
        var (_, fileId, _) = Assert.Single(harness.Server.Completed);
        Assert.Contains(fileId, stdout, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task FakeTusServer_dropping_the_connection_after_storing_a_chunk_resumes_from_the_HEAD_offset()
    {
        await using var harness = await UploadHarness.StartAsync();
        harness.Server.DropResponseAfterBytes = (2 * MiB) - 10;
        var (path, content) = harness.WritePlaintext("data.csv", FileSize);

        var (code, _, stderr) = await harness.RunAsync(Upload(path));

        Assert.True(code == 0, stderr);
        Assert.Contains("retrying", stderr, StringComparison.Ordinal);
        var (upload, _, _) = Assert.Single(harness.Server.Completed);
        Assert.Equal(content, harness.Server.Decrypt(upload));

        // The answer to the PATCH at 1 MiB was lost after the server stored it: HEAD says 2 MiB, and the client continues there (no 409, nothing sent twice).
        var tus = harness.Server.Tus.ToList();
        var head = tus.FindIndex(r => r.Method == "HEAD");
        Assert.True(head > 0);
        Assert.Equal("PATCH", tus[head + 1].Method);
        Assert.Equal("2097152", tus[head + 1].Headers["Upload-Offset"]);
        Assert.DoesNotContain(tus, r => r.Status == 409);
        Assert.Equal(upload.Length, harness.Server.ReceivedBytes);
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task FakeTusServer_dropping_the_connection_mid_body_resumes_from_the_HEAD_offset()
    {
        await using var harness = await UploadHarness.StartAsync();
        harness.Server.DropMidBodyAfterBytes = (2 * MiB) + (MiB / 2);
        var (path, content) = harness.WritePlaintext("data.csv", FileSize);

        var (code, _, stderr) = await harness.RunAsync(Upload(path));

        Assert.True(code == 0, stderr);
        var (upload, _, _) = Assert.Single(harness.Server.Completed);
        Assert.Equal(content, harness.Server.Decrypt(upload));

        // Half a chunk arrived and was discarded (its checksum cannot be checked): HEAD says 2 MiB and the chunk is sent again from there.
        var tus = harness.Server.Tus.ToList();
        var head = tus.FindIndex(r => r.Method == "HEAD");
        Assert.Equal("2097152", tus[head + 1].Headers["Upload-Offset"]);
        Assert.Equal(2, tus.Count(r => r.Method == "PATCH" && r.Headers["Upload-Offset"] == "2097152"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4 * MiB)]
    [InlineData((4 * MiB) + 1)]
    [InlineData((17 * MiB) + 3)]
    [Trait("Requirement", "TIR-5")]
    public async Task Files_of_any_size_are_hashed_and_encrypted_in_one_read_and_arrive_whole(int size)
    {
        // 4 MiB plaintext blocks are shared by the hasher and the encryptor; 17 MiB cycles every one of them more than once.
        await using var harness = await UploadHarness.StartAsync();
        var (path, content) = harness.WritePlaintext("data.csv", size);

        var (code, stdout, stderr) = await harness.RunAsync(Upload(path));

        Assert.True(code == 0, stderr);
        var (upload, _, _) = Assert.Single(harness.Server.Completed);
        Assert.Equal(content, harness.Server.Decrypt(upload));
        Assert.Equal(Sha256(content), upload.Metadata["plaintextSha256"]);
        Assert.Contains(Sha256(content), stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [Trait("Requirement", "TIR-5")]
    public async Task Chunks_are_streamed_from_disk_and_a_resume_at_an_unaligned_offset_sends_exactly_the_rest(bool checksum)
    {
        await using var harness = await UploadHarness.StartAsync();
        // 2 MiB chunks go out as 1 MiB pieces; the connection breaks 1 MiB into the PATCH at 2 MiB, and the server keeps an odd
        // number of its bytes, so the resume starts mid-block (plain reads up to the next MiB, then aligned direct reads).
        harness.Server.DropMidBodyAfterBytes = 3 * MiB;
        harness.Server.PartialBytesKeptOnDrop = 100_001;
        var (path, content) = harness.WritePlaintext("data.csv", (5 * MiB) + 12345);

        string[] args = ["upload", "--project", FakeTusServer.Project, "--dataset", FakeTusServer.Dataset, path, "--chunk-size", "2"];
        var (code, _, stderr) = await harness.RunAsync(checksum ? [.. args, "--checksum"] : args);

        Assert.True(code == 0, stderr);
        var (upload, _, _) = Assert.Single(harness.Server.Completed);
        Assert.Equal(content, harness.Server.Decrypt(upload));
        var tus = harness.Server.Tus.ToList();
        Assert.Equal(2 * MiB, tus.Single(r => r.Method == "POST").BodyBytes);
        var head = tus.FindIndex(r => r.Method == "HEAD");
        Assert.Equal(((2 * MiB) + 100_001).ToString(System.Globalization.CultureInfo.InvariantCulture), tus[head + 1].Headers["Upload-Offset"]);
        // That chunk ends on the chunk grid, so the next one is aligned again.
        Assert.Equal((4 * MiB).ToString(System.Globalization.CultureInfo.InvariantCulture), tus[head + 2].Headers["Upload-Offset"]);
        Assert.All(tus.Where(r => r.Method is "POST" or "PATCH"), r => Assert.Equal(checksum, r.Headers.ContainsKey("Upload-Checksum")));
    }

    [Fact]
    public async Task FakeTusServer_409_makes_the_client_ask_HEAD_for_the_offset_and_continue()
    {
        await using var harness = await UploadHarness.StartAsync();
        harness.Server.ConflictsToInject = 1;
        var (path, content) = harness.WritePlaintext("data.csv", FileSize);

        var (code, _, stderr) = await harness.RunAsync(Upload(path));

        Assert.True(code == 0, stderr);
        Assert.Equal(content, harness.Server.Decrypt(Assert.Single(harness.Server.Completed).Upload));
        var tus = harness.Server.Tus.ToList();
        var conflict = tus.FindIndex(r => r.Status == 409);
        Assert.True(conflict > 0);
        Assert.Equal("HEAD", tus[conflict + 1].Method);
        Assert.Equal(tus[conflict].Headers["Upload-Offset"], tus[conflict + 2].Headers["Upload-Offset"]);
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task By_default_chunks_carry_no_checksum_and_the_upload_completes()
    {
        await using var harness = await UploadHarness.StartAsync();
        var (path, content) = harness.WritePlaintext("data.csv", FileSize);

        var (code, _, stderr) = await harness.RunAsync(Upload(path));

        Assert.True(code == 0, stderr);
        Assert.Equal(content, harness.Server.Decrypt(Assert.Single(harness.Server.Completed).Upload));
        Assert.All(harness.Server.Tus.Where(r => r.Method is "POST" or "PATCH"), r => Assert.False(r.Headers.ContainsKey("Upload-Checksum")));
    }

    [Fact]
    public async Task FakeTusServer_460_checksum_mismatch_sends_the_same_chunk_again()
    {
        await using var harness = await UploadHarness.StartAsync();
        harness.Server.ChecksumMismatchesToInject = 1;
        var (path, content) = harness.WritePlaintext("data.csv", 100_000);

        var (code, _, stderr) = await harness.RunAsync(Upload(path, "--checksum"));

        Assert.True(code == 0, stderr);
        Assert.Contains("damaged chunk", stderr, StringComparison.Ordinal);
        Assert.Equal(content, harness.Server.Decrypt(Assert.Single(harness.Server.Completed).Upload));
        var posts = harness.Server.Tus.Where(r => r.Method == "POST").ToList();
        Assert.Equal([460, 201], posts.Select(p => p.Status));
        Assert.Equal(posts[0].Headers["Upload-Checksum"], posts[1].Headers["Upload-Checksum"]);
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Killed_spe_process_resumes_against_FakeTusServer_from_the_server_offset_when_run_again()
    {
        await using var harness = await UploadHarness.StartAsync();
        harness.Server.StallAfterBytes = (2 * MiB) + (MiB / 2);
        var (path, content) = harness.WritePlaintext("data.csv", FileSize);

        using (var first = harness.StartSpe(Upload(path)))
        {
            var stderr = first.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stalled = await Task.WhenAny(harness.Server.Stalled.Task, first.WaitForExitAsync(TestContext.Current.CancellationToken), Task.Delay(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken));
            Assert.True(stalled == harness.Server.Stalled.Task, "spe did not reach the stall: " + (first.HasExited ? await stderr : "(still running)"));
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        await harness.Server.WaitIdleAsync();

        // What survives the kill: the state (with the upload's URL) and the encrypted copy; the server kept 2 whole chunks.
        var upload = Assert.Single(harness.Server.Uploads.Values);
        Assert.Equal(2 * MiB, upload.Offset);
        Assert.Single(harness.StateFiles());
        Assert.Single(harness.StagedFiles());
        var before = harness.Server.Tus.Count();

        var (code, stdout, stderr2) = await harness.RunSpeAsync(Upload(path));

        Assert.True(code == 0, stderr2);
        Assert.Contains("resuming at 2.0 MiB", stderr2, StringComparison.Ordinal);
        Assert.DoesNotContain("encrypting", stderr2, StringComparison.Ordinal);
        var second = harness.Server.Tus.Skip(before).ToList();
        Assert.DoesNotContain(second, r => r.Method == "POST");
        Assert.Equal("HEAD", second[1].Method);
        Assert.Equal("2097152", second[2].Headers["Upload-Offset"]);
        var (completed, fileId, _) = Assert.Single(harness.Server.Completed);
        Assert.Same(upload, completed);
        Assert.Equal(content, harness.Server.Decrypt(completed));
        Assert.Contains(fileId, stdout, StringComparison.Ordinal);
        Assert.Contains(Sha256(content), stdout, StringComparison.Ordinal);
        Assert.Empty(harness.StateFiles());
        Assert.Empty(harness.StagedFiles());
    }

    [Fact]
    public async Task An_interrupted_upload_that_FakeTusServer_has_since_expired_starts_again_from_the_encrypted_copy()
    {
        await using var harness = await UploadHarness.StartAsync();
        harness.Server.StallAfterBytes = MiB + 10;
        var (path, content) = harness.WritePlaintext("data.csv", FileSize);
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var first = harness.RunAsync(interrupt.Token, Upload(path));
        // Under a loaded machine the first run can take a while to reach the stall: wait for the stall or for the run to end, generously.
        var ended = await Task.WhenAny(harness.Server.Stalled.Task, first).WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        if (ended != harness.Server.Stalled.Task)
        {
            Assert.Fail("the first upload ended before the server stalled: " + (await first).Stderr);
        }
        await interrupt.CancelAsync();
        await first;
        await harness.Server.WaitIdleAsync();
        Assert.Single(harness.StateFiles());
        harness.Server.Uploads.Clear();
        var before = harness.Server.Tus.Count();

        var (code, _, stderr) = await harness.RunAsync(Upload(path));

        Assert.True(code == 0, stderr);
        Assert.Contains("no longer has the partial upload", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("encrypting", stderr, StringComparison.Ordinal);
        Assert.Equal(["OPTIONS", "HEAD", "POST"], harness.Server.Tus.Skip(before).Take(3).Select(r => r.Method));
        Assert.Equal(content, harness.Server.Decrypt(Assert.Single(harness.Server.Completed).Upload));
    }

    [Fact]
    public async Task A_pre_encrypted_c4gh_file_is_sent_to_FakeTusServer_byte_for_byte_with_the_declared_plaintext_sha256()
    {
        await using var harness = await UploadHarness.StartAsync();
        var plaintext = Encoding.UTF8.GetBytes("id,value\n1,2\n");
        using var encrypted = new MemoryStream();
        Crypt4ghFile.Encrypt(new MemoryStream(plaintext), encrypted, [harness.Server.ProjectKey.PublicKey]);
        var path = harness.WriteFile("table.csv.c4gh", encrypted.ToArray());

        var (code, stdout, stderr) = await harness.RunAsync(Upload(path, "--plaintext-sha256", Sha256(plaintext).ToUpperInvariant()));

        Assert.True(code == 0, stderr);
        var (upload, fileId, _) = Assert.Single(harness.Server.Completed);
        Assert.Equal(encrypted.ToArray(), upload.Data.ToArray());
        Assert.Equal("table.csv", upload.Metadata["filename"]);
        Assert.Equal(Sha256(plaintext), upload.Metadata["plaintextSha256"]);
        Assert.Contains(fileId, stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("encrypting", stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task FakeTusServer_422_at_completion_exits_1_with_the_problem_text_and_forgets_the_upload()
    {
        await using var harness = await UploadHarness.StartAsync();
        using var other = Crypt4ghPrivateKey.Generate();
        using var encrypted = new MemoryStream();
        Crypt4ghFile.Encrypt(new MemoryStream(new byte[5000]), encrypted, [other.PublicKey]);
        var path = harness.WriteFile("other.bin.c4gh", encrypted.ToArray());

        var (code, _, stderr) = await harness.RunAsync(Upload(path, "--plaintext-sha256", new string('a', 64)));

        Assert.Equal(1, code);
        Assert.Contains("spe: other.bin.c4gh: the server refused the file: The file is encrypted for another key, not this project's. The upload was discarded. (fake.422)", stderr, StringComparison.Ordinal);
        Assert.Empty(harness.Server.Completed);
        Assert.Empty(harness.StateFiles());
    }

    [Fact]
    public async Task A_c4gh_file_without_plaintext_sha256_is_a_usage_error_before_anything_is_sent()
    {
        await using var harness = await UploadHarness.StartAsync();
        using var encrypted = new MemoryStream();
        Crypt4ghFile.Encrypt(new MemoryStream(new byte[10]), encrypted, [harness.Server.ProjectKey.PublicKey]);
        var path = harness.WriteFile("x.csv.c4gh", encrypted.ToArray());

        var (code, _, stderr) = await harness.RunAsync(Upload(path));

        Assert.Equal(2, code);
        Assert.Contains("--plaintext-sha256", stderr, StringComparison.Ordinal);
        Assert.Empty(harness.Server.Requests);
    }

    [Fact]
    public async Task A_c4gh_name_on_a_file_that_is_not_Crypt4GH_is_refused()
    {
        await using var harness = await UploadHarness.StartAsync();
        var path = harness.WriteFile("plain.csv.c4gh", Encoding.UTF8.GetBytes("a,b\n1,2\n"));

        var (code, _, stderr) = await harness.RunAsync(Upload(path, "--plaintext-sha256", new string('a', 64)));

        Assert.Equal(1, code);
        Assert.Contains("does not start like one", stderr, StringComparison.Ordinal);
        Assert.Empty(harness.Server.Requests);
    }

    [Fact]
    public async Task A_project_key_that_does_not_match_the_stated_or_expected_fingerprint_is_refused()
    {
        await using var harness = await UploadHarness.StartAsync();
        var (path, _) = harness.WritePlaintext("data.csv", 1000);

        var (code, _, stderr) = await harness.RunAsync(Upload(path, "--key-fingerprint", new string('b', 64)));
        Assert.Equal(1, code);
        Assert.Contains("not the --key-fingerprint", stderr, StringComparison.Ordinal);

        harness.Server.StatedFingerprint = new string('c', 64);
        (code, _, stderr) = await harness.RunAsync(Upload(path));
        Assert.Equal(1, code);
        Assert.Contains("but the server states", stderr, StringComparison.Ordinal);

        Assert.DoesNotContain(harness.Server.Requests, r => r.Path.Contains("/uploads", StringComparison.Ordinal));
        Assert.Empty(harness.StagedFiles());
    }

    [Fact]
    public async Task A_Location_on_another_origin_is_refused_so_the_token_is_not_sent_there()
    {
        await using var harness = await UploadHarness.StartAsync();
        harness.Server.LocationOverride = "https://elsewhere.example/api/v1/projects/p-42/uploads/up-1";
        var (path, _) = harness.WritePlaintext("data.csv", FileSize);

        var (code, _, stderr) = await harness.RunAsync(Upload(path));

        Assert.Equal(1, code);
        Assert.Contains("refusing the upload Location https://elsewhere.example/", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dataset_list_prints_FakeTusServer_files_as_a_table_and_as_json()
    {
        await using var harness = await UploadHarness.StartAsync();
        var (path, content) = harness.WritePlaintext("data.csv", 3000);
        Assert.Equal(0, (await harness.RunAsync(Upload(path))).Code);
        harness.Server.ExtraFiles.Add(new
        {
            id = "f-other",
            dataset = "ds-2",
            filename = "other.csv",
            size = 2000,
            plaintextSize = 1500,
            sha256 = new string('1', 64),
            plaintextSha256 = new string('2', 64),
            uploadedBy = "bob",
            uploadedAt = DateTimeOffset.Parse("2026-11-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        });

        var (code, stdout, stderr) = await harness.RunAsync("dataset", "list", "--project", FakeTusServer.Project);

        Assert.True(code == 0, stderr);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.Matches(@"^NAME\s+DATASET\s+SIZE\s+PLAINTEXT-SHA256\s+UPLOADED-BY\s+WHEN$", lines[0]);
        Assert.Matches($@"^data\.csv\s+ds-1\s+2\.93 KiB\s+{Sha256(content)}\s+holder\s+\d{{4}}-", lines[1]);
        Assert.Matches(@"^other\.csv\s+ds-2\s+1\.46 KiB\s+2{64}\s+bob\s+2026-11-01 10:00:00Z$", lines[2]);

        (code, stdout, _) = await harness.RunAsync("dataset", "list", "--project", FakeTusServer.Project, "--dataset", "ds-2", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        var only = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal("f-other", only.GetProperty("id").GetString());
        Assert.Equal(2000, only.GetProperty("size").GetInt64());
    }

    [Fact]
    public async Task Upload_help_names_every_option()
    {
        await using var harness = await UploadHarness.StartAsync();
        var (code, stdout, _) = await harness.RunAsync("upload", "--help");

        Assert.Equal(0, code);
        foreach (var option in new[] { "--project", "--dataset", "--chunk-size", "--plaintext-sha256", "--key-fingerprint", "--json", "FILE" })
        {
            Assert.Contains(option, stdout, StringComparison.Ordinal);
        }
    }
}
