using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>
/// Resumable, client-side-encrypted uploads by data holders (EHDSR-11, TIR-5, SDR-3, TIR-8): tus status codes, ingest
/// verification, and nothing partial ever visible. Uploads sent in one unbroken run are verified while they arrive;
/// <see cref="UploadVerifiedAtCompletionTests"/> runs every test again with that turned off.
/// </summary>
public class UploadTests : IAsyncLifetime
{
    private static readonly byte[] Csv = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 20_000).Select(i => $"{i},patient-{i % 97},{i * 7 % 1000}")));

    private PermitFixture _f = null!;
    private string _projectId = "";
    private HttpClient _holder = null!;
    private TusClient _tus = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Uploads:MaxUploadBytes"] = "10000000",
            ["Uploads:MaxStreamingVerifications"] = StreamingVerifications.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["policies"] = new { fileTypes = new { upload = new[] { "csv", "parquet" } } };
        (_, _projectId) = await _f.IssueAsync(document);
        _holder = await _f.Server.ClientForAccountAsync("holder");
        _tus = new TusClient(_holder, _projectId);
    }

    /// <summary>How many uploads may be verified while they arrive.</summary>
    protected virtual int StreamingVerifications => 4;

    private long ProvedWhileArriving => _f.Server.Services.GetRequiredService<OpenSpe.Server.Transfers.IngestSessions>().ProvedWhileArriving;

    public async ValueTask DisposeAsync()
    {
        _holder.Dispose();
        await _f.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    [Trait("Requirement", "TIR-5")]
    [Trait("Requirement", "SDR-3")]
    public async Task Holder_uploads_an_encrypted_file_in_chunks_and_it_is_verified_and_listed()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());

        var (_, last) = await _tus.UploadAsync(ciphertext, "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv));
        var files = await _holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files");

        Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        Assert.Equal(StreamingVerifications > 0 ? 1 : 0, ProvedWhileArriving);
        var file = Assert.Single(files.EnumerateArray());
        Assert.Equal(TusClient.Sha256Hex(Csv), file.GetProperty("plaintextSha256").GetString());
        Assert.Equal(TusClient.Sha256Hex(ciphertext), file.GetProperty("sha256").GetString());
        Assert.Equal(Csv.Length, file.GetProperty("plaintextSize").GetInt64());
        Assert.Equal(ciphertext.Length, file.GetProperty("size").GetInt64());
        Assert.Equal("holder", file.GetProperty("uploadedBy").GetString());
        // The stored object is the ciphertext, readable only with the project key.
        var objects = _f.Server.Services.GetRequiredService<IObjectStore>();
        await using var stored = await objects.OpenReadAsync($"projects/{_projectId}/datasets/omop-2026/{file.GetProperty("id").GetString()}.c4gh");
        using var copy = new MemoryStream();
        await stored.CopyToAsync(copy);
        Assert.Equal(ciphertext, copy.ToArray());
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Discovery_advertises_the_extensions()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, _tus.Collection);
        var response = await _holder.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("creation,creation-with-upload,checksum,expiration,termination,concatenation", response.Headers.GetValues("Tus-Extension").Single());
        Assert.Equal("sha1,sha256", response.Headers.GetValues("Tus-Checksum-Algorithm").Single());
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Creation_with_upload_accepts_the_first_chunk()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());

        var created = await _tus.CreateAsync(ciphertext.Length, "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv), ciphertext[..1000]);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("1000", created.Headers.GetValues("Upload-Offset").Single());
        Assert.True(created.Headers.Contains("Upload-Expires"));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Partial_upload_survives_a_server_restart_and_resumes()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var created = await _tus.CreateAsync(ciphertext.Length, "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv));
        var location = created.Headers.Location!.OriginalString;
        var half = ciphertext.Length / 2;
        Assert.Equal(HttpStatusCode.NoContent, (await _tus.PatchAsync(location, 0, ciphertext[..half])).StatusCode);
        var directory = _f.Server.DataDirectory;

        await using var restarted = await RestartAsync(directory);
        using var holder = restarted.ClientWithToken(await restarted.TokenForAccountAsync("holder"));
        var tus = new TusClient(holder, _projectId);
        var offset = await tus.OffsetAsync(location);
        var last = await tus.PatchAsync(location, offset, ciphertext[(int)offset..]);
        var files = await holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files");

        Assert.Equal(half, offset);
        Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        Assert.Equal(TusClient.Sha256Hex(Csv), Assert.Single(files.EnumerateArray()).GetProperty("plaintextSha256").GetString());
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Wrong_offset_is_409_and_bad_checksum_is_460_and_neither_moves_the_offset()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var location = (await _tus.CreateAsync(ciphertext.Length, "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv))).Headers.Location!.OriginalString;
        await _tus.PatchAsync(location, 0, ciphertext[..5000]);

        var wrongOffset = await _tus.PatchAsync(location, 4000, ciphertext[4000..9000]);
        var badChecksum = await _tus.PatchAsync(location, 5000, ciphertext[5000..9000], "sha256 " + Convert.ToBase64String(new byte[32]));
        var sha1 = await _tus.PatchAsync(location, 5000, ciphertext[5000..9000], "sha1 " + Sha1Base64(ciphertext[5000..9000]));

        Assert.Equal(ErrorCodes.UploadOffsetMismatch, (await ProblemAssert.IsProblemAsync(wrongOffset, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        Assert.Equal(ErrorCodes.UploadChecksumMismatch, (await ProblemAssert.IsProblemAsync(badChecksum, (HttpStatusCode)460)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.NoContent, sha1.StatusCode);
        Assert.Equal(9000, await _tus.OffsetAsync(location));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task A_malformed_checksum_header_is_a_400_and_keeps_nothing()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var location = (await _tus.CreateAsync(ciphertext.Length, "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv))).Headers.Location!.OriginalString;

        var notBase64 = await _tus.PatchAsync(location, 0, ciphertext[..5000], "sha256 not*base64");
        var unknownAlgorithm = await _tus.PatchAsync(location, 0, ciphertext[..5000], "md5 " + Convert.ToBase64String(new byte[16]));

        Assert.Equal(ErrorCodes.BadRequest, (await ProblemAssert.IsProblemAsync(notBase64, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, unknownAlgorithm.StatusCode);
        Assert.Equal(0, await _tus.OffsetAsync(location));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    [Trait("Requirement", "SDR-3")]
    public async Task Upload_broken_by_a_refused_chunk_is_verified_whole_at_completion()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var location = (await _tus.CreateAsync(ciphertext.Length, "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv))).Headers.Location!.OriginalString;
        await _tus.PatchAsync(location, 0, ciphertext[..5000]);

        // The refused bytes reached the verifier before the checksum was checked: the run is broken.
        var refused = await _tus.PatchAsync(location, 5000, ciphertext[5000..9000], "sha256 " + Convert.ToBase64String(new byte[32]));
        var last = await _tus.PatchAsync(location, 5000, ciphertext[5000..]);
        var files = await _holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files");

        Assert.Equal(460, (int)refused.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        Assert.Equal(0, ProvedWhileArriving);
        var file = Assert.Single(files.EnumerateArray());
        Assert.Equal(TusClient.Sha256Hex(Csv), file.GetProperty("plaintextSha256").GetString());
        Assert.Equal(TusClient.Sha256Hex(ciphertext), file.GetProperty("sha256").GetString());
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Protocol_errors_get_the_tus_status_codes()
    {
        var tooLarge = await _tus.CreateAsync(20_000_000, "omop-2026", "cohort.csv", new string('a', 64));
        var noVersion = await _tus.CreateAsync(100, "omop-2026", "cohort.csv", new string('a', 64), tusHeader: false);
        var location = (await _tus.CreateAsync(100, "omop-2026", "cohort.csv", new string('a', 64))).Headers.Location!.OriginalString;
        var wrongType = await _tus.PatchAsync(location, 0, new byte[10], contentType: "application/json");
        var overLong = await _tus.PatchAsync(location, 0, new byte[200]);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(ErrorCodes.TusVersionUnsupported, (await ProblemAssert.IsProblemAsync(noVersion, HttpStatusCode.PreconditionFailed)).GetProperty("code").GetString());
        Assert.Equal("1.0.0", noVersion.Headers.GetValues("Tus-Version").Single());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, overLong.StatusCode);
        Assert.Equal(0, await _tus.OffsetAsync(location));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Termination_removes_the_upload()
    {
        var location = (await _tus.CreateAsync(100, "omop-2026", "cohort.csv", new string('a', 64))).Headers.Location!.OriginalString;
        using var delete = new HttpRequestMessage(HttpMethod.Delete, location);
        delete.Headers.Add("Tus-Resumable", "1.0.0");

        var deleted = await _holder.SendAsync(delete);
        using var head = new HttpRequestMessage(HttpMethod.Head, location);
        head.Headers.Add("Tus-Resumable", "1.0.0");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _holder.SendAsync(head)).StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    [Trait("Requirement", "TIR-5")]
    [Trait("Requirement", "SDR-3")]
    public async Task A_file_of_many_blocks_is_proved_whole_and_one_for_another_key_is_refused_without_stalling_later_chunks(bool forProject)
    {
        // 9 MB of ciphertext in 3 MiB PATCHes: many 1 MiB blocks pass the verifier; for another key it stops reading at the header.
        var plaintext = new byte[9_000_000];
        Random.Shared.NextBytes(plaintext);
        "PAR1"u8.CopyTo(plaintext);
        using var stranger = Crypt4ghPrivateKey.Generate();
        var ciphertext = TusClient.Encrypt(plaintext, forProject ? await _tus.ProjectKeyAsync() : stranger.PublicKey);

        var (_, last) = await _tus.UploadAsync(ciphertext, "omop-2026", "cohort.parquet", TusClient.Sha256Hex(plaintext), chunk: 3 << 20);
        var files = await _holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files");

        Assert.Equal(StreamingVerifications > 0 ? 1 : 0, ProvedWhileArriving);
        if (!forProject)
        {
            await Api.ProblemAssert.IsProblemAsync(last, HttpStatusCode.UnprocessableEntity);
            Assert.Equal(0, files.GetArrayLength());
            return;
        }

        Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        var file = Assert.Single(files.EnumerateArray());
        Assert.Equal(TusClient.Sha256Hex(plaintext), file.GetProperty("plaintextSha256").GetString());
        Assert.Equal(TusClient.Sha256Hex(ciphertext), file.GetProperty("sha256").GetString());
        Assert.Equal(plaintext.Length, file.GetProperty("plaintextSize").GetInt64());
    }

    public static TheoryData<string> RejectedAtIngest => new(["plaintext", "other-key", "checksum", "content"]);

    [Theory]
    [MemberData(nameof(RejectedAtIngest))]
    [Trait("Requirement", "SDR-3")]
    [Trait("Requirement", "TIR-8")]
    public async Task Completed_upload_that_fails_verification_is_422_and_nothing_remains(string kind)
    {
        var projectKey = await _tus.ProjectKeyAsync();
        using var stranger = Crypt4ghPrivateKey.Generate();
        var binary = new byte[50_000];
        Random.Shared.NextBytes(binary);
        var (bytes, declared) = kind switch
        {
            "plaintext" => (Csv, TusClient.Sha256Hex(Csv)),
            "other-key" => (TusClient.Encrypt(Csv, stranger.PublicKey), TusClient.Sha256Hex(Csv)),
            "checksum" => (TusClient.Encrypt(Csv, projectKey), new string('0', 64)),
            _ => (TusClient.Encrypt(binary, projectKey), TusClient.Sha256Hex(binary)),
        };

        var (location, last) = await _tus.UploadAsync(bytes, "omop-2026", "cohort.csv", declared);
        var files = await _holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files");
        var objects = _f.Server.Services.GetRequiredService<IObjectStore>();
        using var head = new HttpRequestMessage(HttpMethod.Head, location);
        head.Headers.Add("Tus-Resumable", "1.0.0");

        await Api.ProblemAssert.IsProblemAsync(last, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(StreamingVerifications > 0 ? 1 : 0, ProvedWhileArriving);
        Assert.Equal(0, files.GetArrayLength());
        Assert.Empty(await objects.ListAsync($"projects/{_projectId}/").ToListAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await _holder.SendAsync(head)).StatusCode);
        Assert.Empty(Directory.GetFiles(Path.Combine(_f.Server.DataDirectory, "data", "uploads")));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    [Trait("Requirement", "SDR-1")]
    public async Task Only_the_named_holder_uploads_to_a_dataset_of_the_permit_and_only_allowed_types()
    {
        // Another holder of the same permit: UploadHolderSeparationTests (the researcher here is refused by the gate already).
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");
        var asResearcher = await new TusClient(researcher, _projectId).CreateAsync(100, "omop-2026", "a.csv", new string('a', 64));
        var unknownDataset = await _tus.CreateAsync(100, "not-in-permit", "a.csv", new string('a', 64));
        var forbiddenType = await _tus.CreateAsync(100, "omop-2026", "tool.exe", new string('a', 64));
        var badName = await _tus.CreateAsync(100, "omop-2026", "../../etc/passwd.csv", new string('a', 64));

        Assert.Equal(HttpStatusCode.Forbidden, asResearcher.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, unknownDataset.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbiddenType.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "OPR-5")]
    [Trait("Requirement", "OPR-20")]
    public async Task Uploads_are_refused_after_the_permit_expires_and_during_a_halt()
    {
        var location = (await _tus.CreateAsync(100, "omop-2026", "cohort.csv", new string('a', 64))).Headers.Location!.OriginalString;
        var halt = await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = _projectId, reason = "incident drill" });
        var duringHalt = await _tus.PatchAsync(location, 0, new byte[10]);
        await _f.PostAsAsync("hdab", "/api/v1/halts/resume", new { projectId = _projectId });

        _f.Clock.Advance(TimeSpan.FromDays(31));
        using var holderLater = await _f.Server.ClientForAccountAsync("holder");
        var afterExpiry = await new TusClient(holderLater, _projectId).CreateAsync(100, "omop-2026", "cohort.csv", new string('a', 64));

        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.Equal(HttpStatusCode.Locked, duringHalt.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, afterExpiry.StatusCode);
    }

    // tus names sha1 as a checksum algorithm; it is an integrity check here, not a security control.
    private static string Sha1Base64(byte[] data)
    {
        using var sha1 = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA1);
        sha1.AppendData(data);
        return Convert.ToBase64String(sha1.GetHashAndReset());
    }

    private async Task<SpeTestServer> RestartAsync(string directory)
    {
        await _f.Server.StopKeepingDataAsync();
        // The first server is gone; a new one starts on the same data directory, as after a restart.
        return await SpeTestServer.StartAsync(settings: new Dictionary<string, string?> { ["Uploads:MaxUploadBytes"] = "10000000" }, time: _f.Clock, reuseDirectory: directory);
    }
}

/// <summary>The upload tests with verification only after the last byte (no upload verified while it arrives).</summary>
public sealed class UploadVerifiedAtCompletionTests : UploadTests
{
    /// <inheritdoc/>
    protected override int StreamingVerifications => 0;
}
