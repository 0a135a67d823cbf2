using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Transfers;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>
/// A data holder cannot fill the disk (#11.7): per-upload and per-project quotas, and a free-space reserve for the audit log
/// and the database, checked when an upload is created and for every block a PATCH writes. The disk is a pretend one
/// (<see cref="PretendDisk"/>), whose free space shrinks as the staging files grow.
/// </summary>
public sealed class UploadQuotaTests : IAsyncLifetime
{
    private const long Reserve = 8 << 20;

    private readonly PretendDisk _disk = new();
    private PermitFixture _f = null!;
    private string _projectId = "";
    private HttpClient _holder = null!;
    private TusClient _tus = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Uploads:MaxUploadBytes"] = "6000000",
            ["Uploads:MaxProjectBytes"] = "10000000",
            ["Uploads:MinFreeBytes"] = Reserve.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Uploads:MinFreePercent"] = "0",
        }, services: services => services.AddSingleton<IFreeSpaceProbe>(_disk));
        _disk.Staging = Path.Combine(_f.Server.DataDirectory, "data", "uploads");
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

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task An_upload_longer_than_the_per_upload_quota_is_413_with_its_own_code()
    {
        var created = await _tus.CreateAsync(1L << 40, "omop-2026", "cohort.csv", new string('a', 64));

        var problem = await Api.ProblemAssert.IsProblemAsync(created, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("SPE5103", problem.GetProperty("code").GetString());
        Assert.Contains("6000000", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_disk.Staging));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Unfinished_uploads_count_against_the_project_quota_until_they_are_terminated()
    {
        var first = await _tus.CreateAsync(6_000_000, "omop-2026", "a.csv", new string('a', 64));
        var second = await _tus.CreateAsync(5_000_000, "omop-2026", "b.csv", new string('a', 64));
        await TerminateAsync(first.Headers.Location!.OriginalString);
        var third = await _tus.CreateAsync(5_000_000, "omop-2026", "b.csv", new string('a', 64));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var problem = await Api.ProblemAssert.IsProblemAsync(second, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("SPE5104", problem.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Created, third.StatusCode);
        Assert.Single(Directory.GetFiles(_disk.Staging));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task Creation_is_507_when_the_upload_would_eat_into_the_reserve_counting_what_unfinished_uploads_still_expect()
    {
        _disk.Capacity = Reserve + 3_000_000;

        var tooBig = await _tus.CreateAsync(3_000_001, "omop-2026", "a.csv", new string('a', 64));
        var fits = await _tus.CreateAsync(2_000_000, "omop-2026", "a.csv", new string('a', 64));
        var promisedAlready = await _tus.CreateAsync(1_500_000, "omop-2026", "b.csv", new string('a', 64));

        var problem = await Api.ProblemAssert.IsProblemAsync(tooBig, (HttpStatusCode)507);
        Assert.Equal("SPE5105", problem.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        await Api.ProblemAssert.IsProblemAsync(promisedAlready, (HttpStatusCode)507);
        Assert.Single(Directory.GetFiles(_disk.Staging));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task A_PATCH_that_would_cross_the_reserve_stops_with_507_keeps_what_it_wrote_and_resumes_when_there_is_room()
    {
        var plaintext = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 200_000).Select(i => $"{i},patient-{i % 89},{i * 13 % 1000}")));
        var ciphertext = TusClient.Encrypt(plaintext, await _tus.ProjectKeyAsync());
        Assert.InRange(ciphertext.Length, 3 << 20, 6_000_000);
        var location = (await _tus.CreateAsync(ciphertext.Length, "omop-2026", "cohort.csv", TusClient.Sha256Hex(plaintext))).Headers.Location!.OriginalString;
        // Something else fills the disk after the upload was admitted: room for one and a half blocks beyond the reserve.
        _disk.Capacity = Reserve + (3 << 19);

        var stopped = await _tus.PatchAsync(location, 0, ciphertext, checksum: null);
        var offset = await _tus.OffsetAsync(location);
        var stagedLength = new FileInfo(Directory.GetFiles(_disk.Staging).Single()).Length;
        _disk.Capacity = long.MaxValue / 2;
        var resumed = await _tus.PatchAsync(location, offset, ciphertext[(int)offset..], checksum: null);

        var problem = await Api.ProblemAssert.IsProblemAsync(stopped, (HttpStatusCode)507);
        Assert.Equal("SPE5105", problem.GetProperty("code").GetString());
        Assert.Equal(1 << 20, offset);
        Assert.Equal(offset.ToString(System.Globalization.CultureInfo.InvariantCulture), stopped.Headers.GetValues("Upload-Offset").Single());
        Assert.Equal(offset, stagedLength);
        Assert.Equal(HttpStatusCode.NoContent, resumed.StatusCode);
        Assert.True(resumed.Headers.Contains("Upload-File-Id"));
        var files = await _holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files");
        Assert.Equal(TusClient.Sha256Hex(ciphertext), Assert.Single(files.EnumerateArray()).GetProperty("sha256").GetString());
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task A_checksummed_PATCH_that_would_cross_the_reserve_keeps_nothing_of_its_chunk()
    {
        var chunk = new byte[3 << 20];
        Random.Shared.NextBytes(chunk);
        var location = (await _tus.CreateAsync(chunk.Length, "omop-2026", "a.csv", new string('a', 64))).Headers.Location!.OriginalString;
        _disk.Capacity = Reserve + (3 << 19);

        var stopped = await _tus.PatchAsync(location, 0, chunk);

        await Api.ProblemAssert.IsProblemAsync(stopped, (HttpStatusCode)507);
        Assert.Equal(0, await _tus.OffsetAsync(location));
        Assert.Equal(0, new FileInfo(Directory.GetFiles(_disk.Staging).Single()).Length);
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task A_quota_smaller_than_the_largest_upload_stops_the_server_at_start_with_one_line()
    {
        var failure = await Assert.ThrowsAsync<SpeConfigurationException>(() => SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Uploads:MaxUploadBytes"] = "2000",
            ["Uploads:MaxProjectBytes"] = "1000",
        }));

        Assert.Contains("Uploads:MaxProjectBytes", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure.Message);
    }

    [Fact]
    public void The_real_probe_measures_the_file_system_and_disk_full_errors_are_recognised()
    {
        var space = new DriveFreeSpaceProbe().Measure(Path.GetTempPath());

        Assert.InRange(space.Available, 1, space.Total);
        Assert.True(UploadStorage.IsDiskFull(new IOException("No space left on device", 28)));
        Assert.False(UploadStorage.IsDiskFull(new IOException("Connection reset", 104)));
    }

    private async Task TerminateAsync(string location)
    {
        using var delete = new HttpRequestMessage(HttpMethod.Delete, location);
        delete.Headers.Add("Tus-Resumable", "1.0.0");
        Assert.Equal(HttpStatusCode.NoContent, (await _holder.SendAsync(delete)).StatusCode);
    }

    /// <summary>A file system of <see cref="Capacity"/> bytes whose only contents are the staging files.</summary>
    private sealed class PretendDisk : IFreeSpaceProbe
    {
        public string Staging { get; set; } = "";

        public long Capacity { get; set; } = 1L << 40;

        public DiskSpace Measure(string path)
        {
            var used = Staging.Length == 0 ? 0 : Directory.GetFiles(Staging).Sum(f => new FileInfo(f).Length);
            return new DiskSpace(Math.Max(0, Capacity - used), 1L << 40);
        }
    }
}
