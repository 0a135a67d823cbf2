using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Transfers;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>
/// The tus concatenation extension (TIR-5): the bytes go in partial uploads that name only their dataset, and the final
/// upload declares the file name and plaintext SHA-256, so a client can hash while it sends. The final upload is verified
/// exactly like a plain upload's last PATCH; refusals change nothing. Also the expired-upload sweep.
/// </summary>
public sealed class UploadConcatenationTests : IAsyncLifetime
{
    private static readonly byte[] Csv = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 30_000).Select(i => $"{i},patient-{i % 89},{i * 13 % 1000}")));

    private PermitFixture _f = null!;
    private string _projectId = "";
    private HttpClient _holder = null!;
    private TusClient _tus = null!;

    public async ValueTask InitializeAsync()
    {
        // Note: uploads expire after 10 minutes and the host's own sweep runs daily, so the sweep test's pass is the only one.
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Uploads:MaxUploadBytes"] = "10000000",
            ["Uploads:Expiration"] = "00:10:00",
            ["Uploads:SweepInterval"] = "1.00:00:00",
        });
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        (_, _projectId) = await _f.IssueAsync(document);
        _holder = await _f.Server.ClientForAccountAsync("holder");
        _tus = new TusClient(_holder, _projectId);
    }

    public async ValueTask DisposeAsync()
    {
        _holder.Dispose();
        await _f.DisposeAsync();
    }

    private string StagingDirectory => Path.Combine(_f.Server.DataDirectory, "data", "uploads");

    [Fact]
    [Trait("Requirement", "TIR-5")]
    [Trait("Requirement", "EHDSR-11")]
    public async Task A_partial_upload_sent_whole_becomes_a_verified_file_when_the_final_upload_declares_its_hash()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var partial = await CreatePartialAsync(ciphertext.Length);
        HttpResponseMessage? last = null;
        for (var offset = 0; offset < ciphertext.Length; offset += 64 * 1024)
        {
            last = await _tus.PatchAsync(partial, offset, ciphertext[offset..Math.Min(ciphertext.Length, offset + 64 * 1024)], checksum: null);
            Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        }

        var before = await FilesAsync();
        var head = await HeadAsync(partial);

        var final = await _tus.CreateFinalAsync([partial], "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv));

        Assert.False(last!.Headers.Contains("Upload-File-Id"));
        Assert.Equal(0, before.GetArrayLength());
        Assert.Equal("partial", head.Headers.GetValues("Upload-Concat").Single());
        Assert.Equal(HttpStatusCode.Created, final.StatusCode);
        Assert.Equal($"final;{partial}", final.Headers.GetValues("Upload-Concat").Single());
        Assert.Equal(ciphertext.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), final.Headers.GetValues("Upload-Length").Single());
        var file = Assert.Single((await FilesAsync()).EnumerateArray());
        Assert.Equal(final.Headers.GetValues("Upload-File-Id").Single(), file.GetProperty("id").GetString());
        Assert.Equal(TusClient.Sha256Hex(Csv), file.GetProperty("plaintextSha256").GetString());
        Assert.Equal(TusClient.Sha256Hex(ciphertext), file.GetProperty("sha256").GetString());
        Assert.Equal("cohort.csv", file.GetProperty("filename").GetString());
        // Proved while the partial upload's bytes arrived: the final upload only judged the proof.
        Assert.Equal(1, _f.Server.Services.GetRequiredService<IngestSessions>().ProvedWhileArriving);
        Assert.Equal(HttpStatusCode.NotFound, (await HeadAsync(partial)).StatusCode);
        Assert.Empty(Directory.GetFiles(StagingDirectory));
        var rows = await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(ProjectId: _projectId));
        Assert.Contains(rows, r => r.Action == "dataset.file.uploaded" && r.DetailsJson.Contains(TusClient.Sha256Hex(Csv), StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Several_partial_uploads_are_concatenated_in_the_order_named()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        int[] cuts = [0, 1_000, 70_001, ciphertext.Length];
        var partials = new List<string>();
        for (var i = 0; i < cuts.Length - 1; i++)
        {
            partials.Add(await CreatePartialAsync(cuts[i + 1] - cuts[i]));
        }

        // Sent out of order, as parallel uploads would be.
        foreach (var i in new[] { 2, 0, 1 })
        {
            Assert.Equal(HttpStatusCode.NoContent, (await _tus.PatchAsync(partials[i], 0, ciphertext[cuts[i]..cuts[i + 1]])).StatusCode);
        }

        var final = await _tus.CreateFinalAsync(partials, "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv));

        Assert.Equal(HttpStatusCode.Created, final.StatusCode);
        var file = Assert.Single((await FilesAsync()).EnumerateArray());
        Assert.Equal(TusClient.Sha256Hex(ciphertext), file.GetProperty("sha256").GetString());
        await using var stored = await _f.Server.Services.GetRequiredService<IObjectStore>().OpenReadAsync($"projects/{_projectId}/datasets/omop-2026/{file.GetProperty("id").GetString()}.c4gh");
        using var copy = new MemoryStream();
        await stored.CopyToAsync(copy);
        Assert.Equal(ciphertext, copy.ToArray());
        foreach (var partial in partials)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await HeadAsync(partial)).StatusCode);
        }

        Assert.Empty(Directory.GetFiles(StagingDirectory));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Malformed_or_premature_final_uploads_are_400_and_change_nothing()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var unfinished = await CreatePartialAsync(ciphertext.Length);
        Assert.Equal(HttpStatusCode.NoContent, (await _tus.PatchAsync(unfinished, 0, ciphertext[..5_000])).StatusCode);
        var plain = (await _tus.CreateAsync(10, "omop-2026", "other.csv", new string('a', 64))).Headers.Location!.OriginalString;
        var sha = TusClient.Sha256Hex(Csv);

        var premature = await _tus.CreateFinalAsync([unfinished], "omop-2026", "cohort.csv", sha);
        var notPartial = await _tus.CreateFinalAsync([plain], "omop-2026", "cohort.csv", sha);
        var unknown = await _tus.CreateFinalAsync([$"/api/v1/projects/{_projectId}/uploads/up-000000000000000000000000"], "omop-2026", "cohort.csv", sha);
        var otherProject = await _tus.CreateFinalAsync(["/api/v1/projects/prj-other/uploads/up-1"], "omop-2026", "cohort.csv", sha);
        var twice = await _tus.CreateFinalAsync([unfinished, unfinished], "omop-2026", "cohort.csv", sha);
        var empty = await _tus.CreateFinalAsync([], "omop-2026", "cohort.csv", sha);
        var withLength = await _tus.CreateFinalAsync([unfinished], "omop-2026", "cohort.csv", sha, length: 10);
        var noHash = await _tus.CreateFinalAsync([unfinished], "omop-2026", "cohort.csv", "");
        var wrongDataset = await _tus.CreateFinalAsync([unfinished], "not-in-permit", "cohort.csv", sha);
        var badConcat = await _tus.SendCreateAsync(request => request.Headers.Add("Upload-Concat", "partially"));

        foreach (var refused in new[] { premature, notPartial, unknown, otherProject, twice, empty, withLength, noHash, badConcat })
        {
            await Api.ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest);
        }

        await Api.ProblemAssert.IsProblemAsync(wrongDataset, HttpStatusCode.Forbidden);
        Assert.Equal(5_000, await _tus.OffsetAsync(unfinished));
        Assert.Equal(0, await _tus.OffsetAsync(plain));
        Assert.Equal(0, (await FilesAsync()).GetArrayLength());
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    [Trait("Requirement", "TIR-17")]
    public async Task A_final_upload_whose_plaintext_does_not_match_is_422_and_its_partial_uploads_are_gone()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var partial = await CreatePartialAsync(ciphertext.Length);
        Assert.Equal(HttpStatusCode.NoContent, (await _tus.PatchAsync(partial, 0, ciphertext)).StatusCode);

        var final = await _tus.CreateFinalAsync([partial], "omop-2026", "cohort.csv", new string('0', 64));

        await Api.ProblemAssert.IsProblemAsync(final, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(0, (await FilesAsync()).GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await HeadAsync(partial)).StatusCode);
        Assert.Empty(await _f.Server.Services.GetRequiredService<IObjectStore>().ListAsync($"projects/{_projectId}/").ToListAsync());
        Assert.Empty(Directory.GetFiles(StagingDirectory));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    [Trait("Requirement", "SDR-1")]
    public async Task Partial_uploads_are_for_the_datasets_holder_only_and_nobody_else_can_concatenate_them()
    {
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");
        var asResearcher = await new TusClient(researcher, _projectId).SendCreateAsync(request =>
        {
            request.Headers.Add("Upload-Concat", "partial");
            request.Headers.Add("Upload-Length", "10");
            request.Headers.Add("Upload-Metadata", TusClient.Metadata(("dataset", "omop-2026")));
        });
        var noDataset = await _tus.SendCreateAsync(request =>
        {
            request.Headers.Add("Upload-Concat", "partial");
            request.Headers.Add("Upload-Length", "10");
        });
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var partial = await CreatePartialAsync(ciphertext.Length);
        Assert.Equal(HttpStatusCode.NoContent, (await _tus.PatchAsync(partial, 0, ciphertext)).StatusCode);

        var byResearcher = await new TusClient(researcher, _projectId).CreateFinalAsync([partial], "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv));

        Assert.Equal(HttpStatusCode.Forbidden, asResearcher.StatusCode);
        await Api.ProblemAssert.IsProblemAsync(noDataset, HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.Forbidden, byResearcher.StatusCode);
        Assert.Equal(ciphertext.Length, await _tus.OffsetAsync(partial));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Discovery_advertises_concatenation()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, _tus.Collection);
        var response = await _holder.SendAsync(request);

        Assert.Contains("concatenation", response.Headers.GetValues("Tus-Extension").Single().Split(','));
        Assert.DoesNotContain("concatenation-unfinished", response.Headers.GetValues("Tus-Extension").Single().Split(','));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Expired_uploads_and_orphaned_staging_files_are_swept_and_the_sweep_is_audited()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var expiring = await CreatePartialAsync(ciphertext.Length);
        Assert.Equal(HttpStatusCode.NoContent, (await _tus.PatchAsync(expiring, 0, ciphertext[..4_096])).StatusCode);
        var sweeper = _f.Server.Services.GetRequiredService<ExpiredUploadSweeper>();
        var beforeExpiry = await sweeper.SweepAsync(CancellationToken.None);

        _f.Clock.Advance(TimeSpan.FromMinutes(11));
        // Staging-file ages are judged by the server's clock (here the fake one).
        var orphan = Path.Combine(StagingDirectory, "up-0123456789abcdef01234567.part");
        await File.WriteAllBytesAsync(orphan, [1, 2, 3]);
        File.SetLastWriteTimeUtc(orphan, (_f.Clock.GetUtcNow() - ExpiredUploadSweeper.OrphanAge - TimeSpan.FromMinutes(1)).UtcDateTime);
        var young = Path.Combine(StagingDirectory, "up-76543210fedcba9876543210.part");
        await File.WriteAllBytesAsync(young, [1]);
        File.SetLastWriteTimeUtc(young, (_f.Clock.GetUtcNow() - TimeSpan.FromMinutes(5)).UtcDateTime);
        var afterExpiry = await sweeper.SweepAsync(CancellationToken.None);

        Assert.Equal(0, beforeExpiry.Uploads);
        Assert.Equal((1, 1), afterExpiry);
        await using (var scope = _f.Server.Services.CreateAsyncScope())
        {
            var database = scope.ServiceProvider.GetRequiredService<OpenSpe.Server.Persistence.SpeDbContext>();
            Assert.Empty(database.Uploads.Where(u => u.ProjectId == _projectId).ToList());
        }

        Assert.Equal([Path.GetFileName(young)], Directory.GetFiles(StagingDirectory).Select(Path.GetFileName));
        var expired = Assert.Single(await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: "upload.expired", ProjectId: _projectId)));
        Assert.Equal("system", expired.ActorUsername);
        Assert.Equal("4096", JsonDocument.Parse(expired.DetailsJson).RootElement.GetProperty("offset").GetString());
    }

    private async Task<string> CreatePartialAsync(long length)
    {
        var response = await _tus.SendCreateAsync(request =>
        {
            request.Headers.Add("Upload-Concat", "partial");
            request.Headers.Add("Upload-Length", length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("Upload-Metadata", TusClient.Metadata(("dataset", "omop-2026")));
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        Assert.Equal("partial", response.Headers.GetValues("Upload-Concat").Single());
        return response.Headers.Location!.OriginalString;
    }

    private async Task<HttpResponseMessage> HeadAsync(string location)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, location);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        return await _holder.SendAsync(request);
    }

    private Task<JsonElement> FilesAsync() => _holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files");
}
