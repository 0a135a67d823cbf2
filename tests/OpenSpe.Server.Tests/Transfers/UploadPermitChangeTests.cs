using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Transfers;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>
/// An upload runs against the permit in force while it runs, not the one of its creation (SDR-1, EHDSR-3, OPR-1): an amendment
/// that gives its dataset to another holder or drops it, a suspension or a revocation refuses it at its next PATCH and at its
/// completion, and nothing of it is stored; and one dataset never holds two files of one name (a second upload of a name in
/// progress is refused at creation, and the database's unique index refuses the second of two completing at once). Real
/// Crypt4GH uploads through tus, on SQLite and PostgreSQL.
/// </summary>
public abstract class UploadPermitChangeTests : IAsyncLifetime
{
    private static readonly byte[] Csv = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 30_000).Select(i => $"{i},patient-{i % 89},{i * 13 % 1000}")));

    private readonly Checkpoint _keyUse = new();
    private readonly Checkpoint _import = new();
    private PermitFixture _f = null!;
    private string _permitId = "";
    private string _projectId = "";
    private HttpClient _holder = null!;
    private TusClient _tus = null!;

    protected abstract TestBackend Backend { get; }

    public async ValueTask InitializeAsync()
    {
        // The free-space reserve as a share of the disk is left out (the 1 GiB floor stays): how full the test machine's disk is does
        // not decide these tests; UploadQuotaTests tests the reserve.
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Uploads:MaxUploadBytes"] = "10000000", ["Uploads:MinFreePercent"] = "0" }, Backend, services =>
        {
            services.Decorate<IProjectKeyStore>(inner => new CheckpointKeyStore(inner, _keyUse));
            services.Decorate<IObjectStore>(inner => new CheckpointObjectStore(inner, _import));
        });
        await _f.Server.EnsureAccountAsync("holder2", "data-holder");
        (_permitId, _projectId) = await _f.IssueAsync(Document(("omop-2026", "holder"), ("ds-y", "holder")));
        _holder = await _f.Server.ClientForAccountAsync("holder");
        _tus = new TusClient(_holder, _projectId);
    }

    public async ValueTask DisposeAsync()
    {
        _keyUse.Release();
        _import.Release();
        _holder.Dispose();
        await _f.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Theory]
    [InlineData("given-to-another-holder", "another data holder")]
    [InlineData("dropped", "no such dataset")]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "EHDSR-3")]
    public async Task A_PATCH_after_an_amendment_took_the_dataset_away_is_refused_and_the_upload_discarded(string amendment, string detail)
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var location = (await _tus.CreateAsync(ciphertext.Length, "ds-y", "y.csv", TusClient.Sha256Hex(Csv))).Headers.Location!.OriginalString;
        var half = ciphertext.Length / 2;
        Assert.Equal(HttpStatusCode.NoContent, (await _tus.PatchAsync(location, 0, ciphertext[..half])).StatusCode);
        await AmendAsync(amendment == "dropped" ? Document(("omop-2026", "holder")) : Document(("omop-2026", "holder"), ("ds-y", "holder2")));

        var rest = await _tus.PatchAsync(location, half, ciphertext[half..]);

        var problem = await Api.ProblemAssert.IsProblemAsync(rest, HttpStatusCode.Forbidden);
        Assert.Equal("SPE1006", problem.GetProperty("code").GetString());
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertNothingStoredAndNoUploadLeftAsync(location);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "EHDSR-3")]
    public async Task A_completion_overtaken_by_an_amendment_giving_the_dataset_to_another_holder_stores_nothing(bool whileStoring)
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        // Past the PATCH's own dataset step: while the file is verified, or while the verified file is being stored.
        var checkpoint = whileStoring ? _import : _keyUse;
        checkpoint.Arm();
        var upload = _tus.UploadAsync(ciphertext, "ds-y", "y.csv", TusClient.Sha256Hex(Csv), chunk: ciphertext.Length);
        await checkpoint.Entered.WaitAsync(TimeSpan.FromSeconds(30));

        await AmendAsync(Document(("omop-2026", "holder"), ("ds-y", "holder2")));
        checkpoint.Release();
        var (location, last) = await upload.WaitAsync(TimeSpan.FromSeconds(30));

        var problem = await Api.ProblemAssert.IsProblemAsync(last, HttpStatusCode.Forbidden);
        Assert.Equal("SPE1006", problem.GetProperty("code").GetString());
        await AssertNothingStoredAndNoUploadLeftAsync(location);
        var records = await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery());
        Assert.DoesNotContain(records, r => r.Action == "dataset.file.uploaded");
        Assert.Contains(records, r => r.Action == "upload.rejected" && r.Outcome == "denied");
    }

    [Fact]
    [Trait("Requirement", "OPR-1")]
    [Trait("Requirement", "EHDSR-3")]
    public async Task A_PATCH_in_flight_when_the_permit_is_suspended_stores_nothing_and_completes_once_it_is_resumed()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        _keyUse.Arm();
        var upload = _tus.UploadAsync(ciphertext, "ds-y", "y.csv", TusClient.Sha256Hex(Csv), chunk: ciphertext.Length);
        await _keyUse.Entered.WaitAsync(TimeSpan.FromSeconds(30));

        var suspend = await _f.PostAsAsync("hdab", $"/api/v1/permits/{_permitId}/suspend", new { reason = "investigation" });
        _keyUse.Release();
        var (location, last) = await upload.WaitAsync(TimeSpan.FromSeconds(30));
        var storedWhileSuspended = await StoredFilesAsync();
        var objectsWhileSuspended = await ObjectsAsync();
        var resume = await _f.PostAsAsync("hdab", $"/api/v1/permits/{_permitId}/resume", new { reason = "cleared" });
        var offset = await _tus.OffsetAsync(location);
        var completed = await _tus.PatchAsync(location, offset, [], checksum: null);

        Assert.Equal(HttpStatusCode.OK, suspend.StatusCode);
        var problem = await Api.ProblemAssert.IsProblemAsync(last, HttpStatusCode.Forbidden);
        Assert.Equal("SPE3002", problem.GetProperty("code").GetString());
        Assert.Equal(0, storedWhileSuspended);
        Assert.Empty(objectsWhileSuspended);
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Equal(ciphertext.Length, offset);
        Assert.Equal(HttpStatusCode.NoContent, completed.StatusCode);
        Assert.Single(completed.Headers.GetValues("Upload-File-Id"));
        Assert.Equal(1, await StoredFilesAsync());
    }

    [Fact]
    [Trait("Requirement", "OPR-1")]
    [Trait("Requirement", "TIR-10")]
    public async Task A_PATCH_in_flight_when_the_permit_is_revoked_is_refused_cleanly_and_stores_nothing()
    {
        var plaintext = new byte[3_000_000];
        Random.Shared.NextBytes(plaintext);
        var ciphertext = TusClient.Encrypt(plaintext, await _tus.ProjectKeyAsync());
        var location = (await _tus.CreateAsync(ciphertext.Length, "ds-y", "y.csv", TusClient.Sha256Hex(plaintext))).Headers.Location!.OriginalString;
        var staged = Path.Combine(_f.Server.DataDirectory, "data", "uploads", location[(location.LastIndexOf('/') + 1)..] + ".part");
        // The PATCH sends one whole block (1 MiB, what the server writes at a time) and a bit, and waits: the gate admitted it, its
        // body is arriving when the permit is revoked (and the project's termination removes its unfinished uploads).
        var body = new StallingContent(ciphertext[..((1 << 20) + 4096)]);
        using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = body, Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Offset", "0");
        var patch = _holder.SendAsync(request);
        await WaitUntilAsync(() => File.Exists(staged) && new FileInfo(staged).Length >= 1 << 20, "the PATCH's first block on disk");

        var revoke = await _f.PostAsAsync("hdab", $"/api/v1/permits/{_permitId}/revoke", new { reason = "breach" });
        body.Stop();
        using var answer = await patch.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        var problem = await Api.ProblemAssert.IsProblemAsync(answer, HttpStatusCode.Forbidden);
        Assert.Equal("SPE3002", problem.GetProperty("code").GetString());
        Assert.Equal(0, await StoredFilesAsync());
        Assert.Empty(await ObjectsAsync());
        Assert.False(File.Exists(staged));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    public async Task A_second_upload_of_a_name_in_progress_is_refused_at_creation_until_the_first_ends()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var first = await _tus.CreateAsync(ciphertext.Length, "ds-y", "dup.csv", TusClient.Sha256Hex(Csv));
        Assert.True(first.StatusCode == HttpStatusCode.Created, await first.Content.ReadAsStringAsync());
        var location = first.Headers.Location!.OriginalString;

        var second = await _tus.CreateAsync(ciphertext.Length, "ds-y", "dup.csv", TusClient.Sha256Hex(Csv));
        var asked = await _holder.PostAsJsonAsync($"/api/v1/projects/{_projectId}/uploads/admission", new { dataset = "ds-y", filename = "dup.csv", length = ciphertext.Length });
        var otherName = await _tus.CreateAsync(ciphertext.Length, "ds-y", "other.csv", TusClient.Sha256Hex(Csv));
        using var terminate = new HttpRequestMessage(HttpMethod.Delete, location);
        terminate.Headers.Add("Tus-Resumable", "1.0.0");
        var terminated = await _holder.SendAsync(terminate);
        var afterTermination = await _tus.CreateAsync(ciphertext.Length, "ds-y", "dup.csv", TusClient.Sha256Hex(Csv));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var problem = await Api.ProblemAssert.IsProblemAsync(second, HttpStatusCode.Conflict);
        Assert.Equal("SPE5109", problem.GetProperty("code").GetString());
        Assert.Contains("in progress", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // The browser page asks before it resumes its own upload, so the admission question does not count uploads in progress.
        Assert.Equal(HttpStatusCode.NoContent, asked.StatusCode);
        Assert.Equal(HttpStatusCode.Created, otherName.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, terminated.StatusCode);
        Assert.Equal(HttpStatusCode.Created, afterTermination.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    [Trait("Requirement", "SDR-1")]
    public async Task An_upload_the_former_holder_left_unfinished_does_not_keep_the_name_from_the_new_holder()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var abandoned = await _tus.CreateAsync(ciphertext.Length, "ds-y", "y.csv", TusClient.Sha256Hex(Csv));
        await AmendAsync(Document(("omop-2026", "holder"), ("ds-y", "holder2")));
        using var holder2 = await _f.Server.ClientForAccountAsync("holder2");

        var (_, last) = await new TusClient(holder2, _projectId).UploadAsync(ciphertext, "ds-y", "y.csv", TusClient.Sha256Hex(Csv), chunk: ciphertext.Length);

        Assert.Equal(HttpStatusCode.Created, abandoned.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        Assert.Equal(1, await StoredFilesAsync());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    public async Task Of_two_uploads_of_one_name_the_second_to_complete_is_refused_and_discarded()
    {
        var key = await _tus.ProjectKeyAsync();
        var ciphertext = TusClient.Encrypt(Csv, key);
        var first = (await _tus.CreateAsync(ciphertext.Length, "ds-y", "dup.csv", TusClient.Sha256Hex(Csv))).Headers.Location!.OriginalString;
        var other = Encoding.UTF8.GetBytes("id,value\n1,2\n");
        var otherCiphertext = TusClient.Encrypt(other, key);
        // Arrange-only: the second upload as another instance creates it, its in-progress check having run before the first's row
        // was saved (creations on one instance are admitted one at a time, so HTTP alone cannot make this on one server).
        var second = await InsertUploadAsync("ds-y", "dup.csv", otherCiphertext.Length, TusClient.Sha256Hex(other));

        var firstDone = await _tus.PatchAsync(first, 0, ciphertext);
        var secondDone = await _tus.PatchAsync(second, 0, otherCiphertext);

        Assert.Equal(HttpStatusCode.NoContent, firstDone.StatusCode);
        var problem = await Api.ProblemAssert.IsProblemAsync(secondDone, HttpStatusCode.Conflict);
        Assert.Equal("SPE5109", problem.GetProperty("code").GetString());
        Assert.Equal(1, await StoredFilesAsync());
        Assert.Single(await ObjectsAsync());
        await using var scope = _f.Server.Services.CreateAsyncScope();
        Assert.Empty(await scope.ServiceProvider.GetRequiredService<SpeDbContext>().Uploads.ToListAsync());
        Assert.False(File.Exists(Path.Combine(_f.Server.DataDirectory, "data", "uploads", second[(second.LastIndexOf('/') + 1)..] + ".part")));
    }

    private static Dictionary<string, object?> Document(params (string Id, string Holder)[] datasets)
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["datasets"] = datasets.Select(d => new { id = d.Id, title = "Extract " + d.Id, holder = d.Holder }).ToArray();
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        return document;
    }

    private async Task AmendAsync(Dictionary<string, object?> document)
    {
        var amended = await _f.PostAsAsync("hdab", $"/api/v1/permits/{_permitId}/amendments", document);
        Assert.True(amended.StatusCode == HttpStatusCode.OK, await amended.Content.ReadAsStringAsync());
    }

    private async Task<string> InsertUploadAsync(string dataset, string filename, long length, string plaintextSha256)
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        var holder = (await scope.ServiceProvider.GetRequiredService<UserManager<SpeUser>>().FindByNameAsync("holder"))!;
        var now = _f.Clock.GetUtcNow();
        var upload = new UploadEntity
        {
            Id = "up-" + RandomNumberGenerator.GetHexString(24, lowercase: true),
            ProjectId = _projectId,
            DatasetId = dataset,
            Filename = filename,
            PlaintextSha256 = plaintextSha256,
            Length = length,
            CreatedBy = holder.Id,
            CreatedAt = now,
            ExpiresAt = now.AddDays(1),
        };
        scope.ServiceProvider.GetRequiredService<UploadStaging>().Create(upload.Id);
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        database.Uploads.Add(upload);
        await database.SaveChangesAsync();
        return $"/api/v1/projects/{_projectId}/uploads/{upload.Id}";
    }

    private async Task AssertNothingStoredAndNoUploadLeftAsync(string location)
    {
        Assert.Equal(0, await StoredFilesAsync());
        Assert.Empty(await ObjectsAsync());
        await using var scope = _f.Server.Services.CreateAsyncScope();
        Assert.Empty(await scope.ServiceProvider.GetRequiredService<SpeDbContext>().Uploads.ToListAsync());
        Assert.False(File.Exists(Path.Combine(_f.Server.DataDirectory, "data", "uploads", location[(location.LastIndexOf('/') + 1)..] + ".part")));
    }

    private async Task<int> StoredFilesAsync()
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SpeDbContext>().ProjectFiles.CountAsync(f => f.ProjectId == _projectId);
    }

    private Task<List<ObjectEntry>> ObjectsAsync() =>
        _f.Server.Services.GetRequiredService<IObjectStore>().ListAsync($"projects/{_projectId}/").ToListAsync().AsTask();

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}

public sealed class SqliteUploadPermitChangeTests : UploadPermitChangeTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresUploadPermitChangeTests : UploadPermitChangeTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}
