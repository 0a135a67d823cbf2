using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>
/// A halt stops what is already running (OPR-20, #11.5): a request past the gate is cancelled, and nothing of the project
/// commits after the halt's audit record: no upload offset, no file row, no stored object, no record but refusals.
/// </summary>
public sealed class UploadHaltTests : IAsyncLifetime
{
    private static readonly byte[] Csv = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 30_000).Select(i => $"{i},patient-{i % 89},{i * 13 % 1000}")));

    private readonly Checkpoint _keyUse = new();
    private readonly Checkpoint _import = new();
    private PermitFixture _f = null!;
    private string _projectId = "";
    private HttpClient _holder = null!;
    private TusClient _tus = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Uploads:MaxUploadBytes"] = "10000000" }, services: services =>
        {
            services.Decorate<IProjectKeyStore>(inner => new CheckpointKeyStore(inner, _keyUse));
            services.Decorate<IObjectStore>(inner => new CheckpointObjectStore(inner, _import));
        });
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        (_, _projectId) = await _f.IssueAsync(document);
        _holder = await _f.Server.ClientForAccountAsync("holder");
        _tus = new TusClient(_holder, _projectId);
    }

    public async ValueTask DisposeAsync()
    {
        _keyUse.Release();
        _import.Release();
        _holder.Dispose();
        await _f.DisposeAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    [Trait("Requirement", "OPR-20")]
    public async Task A_halt_stops_a_PATCH_whose_body_is_still_arriving_and_nothing_of_it_is_kept(bool wholeSpe)
    {
        var plaintext = new byte[3_000_000];
        Random.Shared.NextBytes(plaintext);
        var ciphertext = TusClient.Encrypt(plaintext, await _tus.ProjectKeyAsync());
        var location = (await _tus.CreateAsync(ciphertext.Length, "omop-2026", "cohort.csv", TusClient.Sha256Hex(plaintext))).Headers.Location!.OriginalString;
        var staged = Path.Combine(_f.Server.DataDirectory, "data", "uploads", location[(location.LastIndexOf('/') + 1)..] + ".part");
        // The first 1 MiB and a bit: the server writes one whole block, then waits for the rest, which never comes.
        var body = new StallingContent(ciphertext[..((1 << 20) + 4096)]);
        using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = body, Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Offset", "0");
        var patch = _holder.SendAsync(request);
        await WaitUntilAsync(() => File.Exists(staged) && new FileInfo(staged).Length >= 1 << 20, "the PATCH's first block on disk");

        var halt = await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = wholeSpe ? null : _projectId, reason = "suspected exfiltration" });
        var outcome = await EndOfAsync(patch);
        body.Stop();

        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.True(outcome is null or HttpStatusCode.Locked, $"the PATCH ended with {outcome}");
        Assert.Equal(0, await StoredFilesAsync());
        Assert.Empty(await _f.Server.Services.GetRequiredService<IObjectStore>().ListAsync($"projects/{_projectId}/").ToListAsync());
        await using (var scope = _f.Server.Services.CreateAsyncScope())
        {
            var upload = await scope.ServiceProvider.GetRequiredService<SpeDbContext>().Uploads.SingleAsync();
            Assert.Equal(0, upload.Offset);
        }

        await AssertNothingCommittedAfterTheHaltAsync();
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task A_final_upload_overtaken_by_a_halt_while_it_is_verified_stores_nothing()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        var half = ciphertext.Length / 2;
        var first = await PartialAsync(ciphertext[..half]);
        var second = await PartialAsync(ciphertext[half..]);
        _keyUse.Arm();

        var final = _tus.CreateFinalAsync([first, second], "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv));
        await _keyUse.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        var halt = await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = _projectId, reason = "suspected exfiltration" });
        _keyUse.Release();
        var answer = await final.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        var problem = await Api.ProblemAssert.IsProblemAsync(answer, HttpStatusCode.Locked);
        Assert.Equal("SPE3001", problem.GetProperty("code").GetString());
        Assert.Equal(0, await StoredFilesAsync());
        Assert.Empty(await _f.Server.Services.GetRequiredService<IObjectStore>().ListAsync($"projects/{_projectId}/").ToListAsync());
        await using (var scope = _f.Server.Services.CreateAsyncScope())
        {
            // The partial uploads are as they were: after the halt is lifted the final upload can be sent again.
            var ids = await scope.ServiceProvider.GetRequiredService<SpeDbContext>().Uploads.Where(u => u.Partial).Select(u => u.Id).ToListAsync();
            Assert.Equal(new[] { first, second }.Select(l => l[(l.LastIndexOf('/') + 1)..]).Order(), ids.Order());
        }

        await AssertNothingCommittedAfterTheHaltAsync();
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task A_commit_already_under_way_is_recorded_before_the_halt_and_the_halt_waits_for_it()
    {
        var ciphertext = TusClient.Encrypt(Csv, await _tus.ProjectKeyAsync());
        _import.Arm();
        var upload = _tus.UploadAsync(ciphertext, "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv), chunk: ciphertext.Length);
        await _import.Entered.WaitAsync(TimeSpan.FromSeconds(30));

        var halt = _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = _projectId, reason = "suspected exfiltration" });
        var halts = _f.Server.Services.GetRequiredService<HaltRegistry>();
        await WaitUntilAsync(() => halts.DrainsWaiting == 1, "the halt waiting for the commit");
        var haltDoneEarly = halt.IsCompleted;
        using var meanwhile = await _holder.GetAsync($"/api/v1/projects/{_projectId}/files");
        _import.Release();
        var (_, last) = await upload.WaitAsync(TimeSpan.FromSeconds(30));
        var halted = await halt.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(haltDoneEarly);
        Assert.Equal(HttpStatusCode.Locked, meanwhile.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        Assert.Equal(HttpStatusCode.Created, halted.StatusCode);
        Assert.Equal(1, await StoredFilesAsync());
        var records = await RecordsAsync();
        var stored = Assert.Single(records, r => r.Action == "dataset.file.uploaded");
        Assert.True(stored.Sequence < records.Single(r => r.Action == "halt.started").Sequence);
        await AssertNothingCommittedAfterTheHaltAsync();
    }

    private async Task<string> PartialAsync(byte[] bytes)
    {
        var created = await _tus.SendCreateAsync(r =>
        {
            r.Headers.Add("Upload-Concat", "partial");
            r.Headers.Add("Upload-Length", bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            r.Headers.Add("Upload-Metadata", TusClient.Metadata(("dataset", "omop-2026")));
        });
        var location = created.Headers.Location!.OriginalString;
        Assert.Equal(HttpStatusCode.NoContent, (await _tus.PatchAsync(location, 0, bytes, checksum: null)).StatusCode);
        return location;
    }

    private async Task<int> StoredFilesAsync()
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SpeDbContext>().ProjectFiles.CountAsync(f => f.ProjectId == _projectId);
    }

    private async Task<List<AuditRow>> RecordsAsync()
    {
        var audit = _f.Server.Services.GetRequiredService<AuditService>();
        return await audit.QueryAsync(new AuditQuery());
    }

    /// <summary>
    /// After the halt's record the project has only the halt's own alert and refusals. The one success allowed is the answer
    /// to a request whose change was recorded before the halt (its outcome record is written when it answers).
    /// </summary>
    private async Task AssertNothingCommittedAfterTheHaltAsync()
    {
        var records = await RecordsAsync();
        var haltRecord = records.Single(r => r.Action == "halt.started");
        var committedBefore = records.Where(r => r.Sequence < haltRecord.Sequence && r.Action == "dataset.file.uploaded").Select(r => r.TraceId).ToHashSet();
        var later = records.Where(r => r.Sequence > haltRecord.Sequence && r.ProjectId == _projectId).ToList();
        Assert.All(later, r => Assert.True(
            (r.Action == "security.alert" && r.ResourceType == "halt") || r.Outcome != "success" || committedBefore.Contains(r.TraceId),
            $"{r.Action} ({r.Outcome}, {r.HttpStatus}) after the halt"));
        Assert.DoesNotContain(later, r => r.Action is "dataset.file.uploaded" or "upload.rejected" or "upload.expired");
    }

    /// <summary>The status the request ended with, or null when its connection was cut.</summary>
    private static async Task<HttpStatusCode?> EndOfAsync(Task<HttpResponseMessage> request)
    {
        try
        {
            using var response = await request.WaitAsync(TimeSpan.FromSeconds(30));
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

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
