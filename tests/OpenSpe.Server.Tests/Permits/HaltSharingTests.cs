using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Transfers;

namespace OpenSpe.Server.Tests.Permits;

/// <summary>
/// Two real server instances, each on its own data directory (one server per directory), sharing one database and their
/// keys as instances behind a load balancer do: a halt or resume made on one is in force on the other within a second, a
/// halt stops what runs there, and an instance that cannot read the halts refuses project requests instead of serving
/// them on stale state (OPR-20, #12 item 8). Both append to the one audit chain (a halt makes both write at once).
/// </summary>
public abstract class HaltSharingTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _clock = new(PermitFixture.Start);
    private SwitchableHaltSource _source = null!;
    private SpeTestServer _a = null!;
    private SpeTestServer _b = null!;
    private string _projectId = "";

    protected abstract TestBackend Backend { get; }

    public async ValueTask InitializeAsync()
    {
        // The product's defaults, stated here because the test servers otherwise allow a longer bound on a loaded machine.
        var settings = new Dictionary<string, string?> { ["Halts:PollInterval"] = "00:00:00.250", ["Halts:StalenessBound"] = "00:00:01" };
        _a = await SpeTestServer.StartAsync(Backend, settings, time: _clock);
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        using (var hdab = await _a.ClientForAccountAsync("hdab"))
        using (var issued = await hdab.PostAsJsonAsync("/api/v1/permits", document))
        {
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            _projectId = JsonDocument.Parse(await issued.Content.ReadAsStringAsync()).RootElement.GetProperty("projectId").GetString()!;
        }

        // Started after the permit, so its copy of the keys holds the project's key: wrapped project keys are files in each
        // instance's data directory (docs/operations.md, "Several instances").
        _b = await SpeTestServer.StartSecondInstanceAsync(_a, settings, _clock, services => services.Decorate<IHaltSource>(inner => _source = new SwitchableHaltSource(inner)));
    }

    public async ValueTask DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [Trait("Requirement", "OPR-20")]
    public async Task A_halt_made_on_one_instance_is_in_force_on_the_other_within_a_second_and_so_is_its_lifting(bool wholeSpe)
    {
        var files = $"/api/v1/projects/{_projectId}/files";
        using var researcherOnB = _b.ClientWithToken(await _a.TokenForAccountAsync("researcher"));
        Assert.Equal(HttpStatusCode.OK, (await researcherOnB.GetAsync(files)).StatusCode);
        using var operatorOnA = await _a.ClientForAccountAsync("operator");
        using var hdabOnA = await _a.ClientForAccountAsync("hdab");

        var registryOfB = _b.Services.GetRequiredService<HaltRegistry>();

        var sent = Stopwatch.GetTimestamp();
        using var halt = await operatorOnA.PostAsJsonAsync("/api/v1/halts", new { projectId = wholeSpe ? null : _projectId, reason = "suspected exfiltration" });
        var haltCommitted = Stopwatch.GetTimestamp();
        var haltRequest = Stopwatch.GetElapsedTime(sent, haltCommitted);
        var haltDelay = await HoldsNoLaterThanAsync(() => registryOfB.IsHalted(_projectId), haltCommitted, Bound, "the halt on the other instance");
        var (halted, haltAnswered) = await UntilAsync(researcherOnB, files, HttpStatusCode.Locked);
        using var resume = await hdabOnA.PostAsJsonAsync("/api/v1/halts/resume", new { projectId = wholeSpe ? null : _projectId });
        // Liveness only: an instance starved of CPU may count its halts as unread for a while and refuse meanwhile, which
        // fails closed, so how soon the lifting shows is reported, not bounded.
        var resumeDelay = await UntilAsync(() => !registryOfB.IsHalted(_projectId));
        var (resumed, resumeAnswered) = await UntilAsync(researcherOnB, files, HttpStatusCode.OK);

        TestContext.Current.TestOutputHelper?.WriteLine($"{Backend}: the halt request took {haltRequest.TotalMilliseconds:F0} ms; the other instance knew of the halt {haltDelay.TotalMilliseconds:F0} ms after its answer " +
            $"(its answer 423 {haltAnswered.TotalMilliseconds:F0} ms later), of the resume after {resumeDelay.TotalMilliseconds:F0} ms (200 {resumeAnswered.TotalMilliseconds:F0} ms later)");
        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.Equal(HttpStatusCode.Locked, halted.StatusCode);
        Assert.Equal("SPE3001", (await ProblemAssert.IsProblemAsync(halted, HttpStatusCode.Locked)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.False(registryOfB.IsHalted(_projectId), $"the other instance still refused the project {resumeDelay.TotalMilliseconds:F0} ms after the resume");
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task A_halt_made_on_one_instance_stops_an_upload_running_on_the_other_and_nothing_of_it_is_kept()
    {
        using var holderOnB = _b.ClientWithToken(await _a.TokenForAccountAsync("holder"));
        var tus = new TusClient(holderOnB, _projectId);
        var plaintext = new byte[3_000_000];
        Random.Shared.NextBytes(plaintext);
        var ciphertext = TusClient.Encrypt(plaintext, await tus.ProjectKeyAsync());
        using var created = await tus.CreateAsync(ciphertext.Length, "omop-2026", "cohort.csv", TusClient.Sha256Hex(plaintext));
        var location = created.Headers.Location!.OriginalString;
        var staged = Path.Combine(_b.DataDirectory, "data", "uploads", location[(location.LastIndexOf('/') + 1)..] + ".part");
        // The first 1 MiB and a bit: instance B writes one whole block, then waits for the rest, which never comes.
        using var body = new StallingContent(ciphertext[..((1 << 20) + 4096)]);
        using var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = body, Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Offset", "0");
        var patch = holderOnB.SendAsync(request);
        await WaitUntilAsync(() => File.Exists(staged) && new FileInfo(staged).Length >= 1 << 20, "the PATCH's first block on disk");

        using var operatorOnA = await _a.ClientForAccountAsync("operator");
        var started = Stopwatch.GetTimestamp();
        using var halt = await operatorOnA.PostAsJsonAsync("/api/v1/halts", new { projectId = _projectId, reason = "suspected exfiltration" });
        var (outcome, answer) = await EndOfAsync(patch);
        var stoppedAfter = Stopwatch.GetElapsedTime(started);
        body.Stop();

        TestContext.Current.TestOutputHelper?.WriteLine($"{Backend}: the PATCH on the other instance ended ({outcome?.ToString() ?? "cut"}) {stoppedAfter.TotalMilliseconds:F0} ms after the halt");
        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.True(outcome is null or HttpStatusCode.Locked, $"the PATCH ended with {outcome} {answer}");
        Assert.True(stoppedAfter < Bound + Bound, $"the PATCH ran on for {stoppedAfter.TotalMilliseconds:F0} ms after the halt");
        await using var database = _a.Database.CreateDbContext();
        Assert.Equal(0, (await database.Uploads.SingleAsync()).Offset);
        Assert.Equal(0, await database.ProjectFiles.CountAsync(f => f.ProjectId == _projectId));
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task An_instance_that_cannot_read_the_halts_refuses_project_requests_until_it_can_again()
    {
        var files = $"/api/v1/projects/{_projectId}/files";
        var token = await _a.TokenForAccountAsync("researcher");
        using var researcherOnA = _a.ClientWithToken(token);
        using var researcherOnB = _b.ClientWithToken(token);
        Assert.Equal(HttpStatusCode.OK, (await researcherOnB.GetAsync(files)).StatusCode);

        var registryOfB = _b.Services.GetRequiredService<HaltRegistry>();

        _source.Failing = true;
        var failedFrom = Stopwatch.GetTimestamp();
        var staleAfter = await HoldsNoLaterThanAsync(() => registryOfB.IsStale, failedFrom, Bound, "the other instance's halts counting as unread");
        var (refused, refusedAnswered) = await UntilAsync(researcherOnB, files, HttpStatusCode.ServiceUnavailable);
        var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        using var onA = await researcherOnA.GetAsync(files);
        using var info = await researcherOnB.GetAsync("/api/v1/server/info");
        using var readiness = await _b.Client.GetAsync("/readyz");
        _source.Failing = false;
        var freshAfter = await UntilAsync(() => !registryOfB.IsStale);
        var (served, servedAnswered) = await UntilAsync(researcherOnB, files, HttpStatusCode.OK);

        TestContext.Current.TestOutputHelper?.WriteLine($"{Backend}: stale {staleAfter.TotalMilliseconds:F0} ms after the reads began to fail (503 {refusedAnswered.TotalMilliseconds:F0} ms later), " +
            $"current again {freshAfter.TotalMilliseconds:F0} ms after they recovered (200 {servedAnswered.TotalMilliseconds:F0} ms later)");
        Assert.Equal("SPE3005", problem.GetProperty("code").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, onA.StatusCode);
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        var notReady = await ProblemAssert.IsProblemAsync(readiness, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("unread", notReady.GetProperty("halts").GetString());
        Assert.False(registryOfB.IsStale, $"still unread {freshAfter.TotalMilliseconds:F0} ms after the reads recovered");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task Both_instances_append_to_the_one_audit_chain_at_once_and_no_request_is_refused_for_it()
    {
        var token = await _a.TokenForAccountAsync("researcher");
        using var onA = _a.ClientWithToken(token);
        using var onB = _b.ClientWithToken(token);

        var refused = 0;
        for (var round = 0; round < 5; round++)
        {
            var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? onA : onB).GetAsync("/api/v1/server/info")));
            refused += answers.Count(a => a.StatusCode != HttpStatusCode.OK);
            foreach (var answer in answers)
            {
                answer.Dispose();
            }
        }

        var verification = await _a.Services.GetRequiredService<OpenSpe.Server.Audit.AuditService>().VerifyAsync();
        Assert.Equal(0, refused);
        Assert.True(verification.Valid, verification.Message);
    }

    /// <summary>
    /// Samples <paramref name="condition"/> until it holds and fails if a sample taken more than
    /// <paramref name="bound"/> after <paramref name="since"/> found it false; returns how long after <paramref name="since"/>
    /// the first true sample was taken.
    /// </summary>
    /// <remarks>
    /// The time of each sample is read before the condition is evaluated, so a loop starved of CPU on a loaded machine
    /// takes late samples that find the condition true, never a false failure; a failure is the other instance serving on
    /// state older than the bound.
    /// </remarks>
    private static async Task<TimeSpan> HoldsNoLaterThanAsync(Func<bool> condition, long since, TimeSpan bound, string what)
    {
        while (true)
        {
            var sampled = Stopwatch.GetTimestamp();
            var held = condition();
            var after = Stopwatch.GetElapsedTime(since, sampled);
            if (held)
            {
                return after;
            }

            Assert.True(after <= bound, $"{what} did not hold {after.TotalMilliseconds:F0} ms after it had to (bound {bound.TotalMilliseconds:F0} ms)");
            await Task.Delay(5);
        }
    }

    /// <summary>
    /// How long until <paramref name="condition"/> holds (at most 30 s). Used on the other instance's registry, which every
    /// project request there consults: the request's own latency on a loaded machine is then not counted as propagation.
    /// </summary>
    private static async Task<TimeSpan> UntilAsync(Func<bool> condition)
    {
        var started = Stopwatch.GetTimestamp();
        while (!condition() && Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(5);
        }

        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Asks <paramref name="path"/> until it answers <paramref name="status"/> (or 30 s pass); the answer and how long it took.</summary>
    private static async Task<(HttpResponseMessage Response, TimeSpan Elapsed)> UntilAsync(HttpClient client, string path, HttpStatusCode status)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var response = await client.GetAsync(path);
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (response.StatusCode == status || elapsed > TimeSpan.FromSeconds(30))
            {
                return (response, elapsed);
            }

            response.Dispose();
            await Task.Delay(20);
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

    /// <summary>The status and body the request ended with, or null when its connection was cut.</summary>
    private static async Task<(HttpStatusCode? Status, string Body)> EndOfAsync(Task<HttpResponseMessage> request)
    {
        try
        {
            using var response = await request.WaitAsync(TimeSpan.FromSeconds(30));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException)
        {
            return (null, "");
        }
    }

    /// <summary>The database read of the halts, failing on demand as an unreachable database does.</summary>
    private sealed class SwitchableHaltSource(IHaltSource inner) : IHaltSource
    {
        private volatile bool _failing;

        public bool Failing
        {
            get => _failing;
            set => _failing = value;
        }

        public Task<HaltState> ReadAsync(CancellationToken cancellationToken) =>
            _failing ? Task.FromException<HaltState>(new IOException("the database does not answer (test)")) : inner.ReadAsync(cancellationToken);
    }
}

public sealed class SqliteHaltSharingTests : HaltSharingTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresHaltSharingTests : HaltSharingTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}
