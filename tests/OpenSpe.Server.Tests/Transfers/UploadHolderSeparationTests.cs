using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>
/// Two data holders in one permit, each naming a dataset (SDR-1, EHDSR-3, OPR-1): a holder uploads only to the dataset the
/// permit names them for and sees only its files, the researcher sees all; and no route gives anyone the bytes back.
/// </summary>
public sealed partial class UploadHolderSeparationTests : IAsyncLifetime
{
    private static readonly byte[] CohortCsv = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 20_000).Select(i => $"{i},cohort-{i % 97},{i * 7 % 1000}")));
    private static readonly byte[] RegistryCsv = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 20_000).Select(i => $"{i},registry-{i % 31},{i * 11 % 1000}")));

    private PermitFixture _f = null!;
    private string _permitId = "";
    private string _projectId = "";
    private HttpClient _holder = null!;
    private HttpClient _holder2 = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Uploads:MaxUploadBytes"] = "10000000",
            // The download attack sends a few hundred requests from one address; none may be turned away unread.
            ["RateLimiting:PerAddressBurst"] = "100000",
            ["RateLimiting:PerIdentityBurst"] = "100000",
        });
        await CreateSecondHolderAsync();
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["datasets"] = new[]
        {
            new { id = "omop-2026", title = "OMOP CDM extract", holder = "holder" },
            new { id = "registry-2026", title = "Registry extract", holder = "holder2" },
        };
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        (_permitId, _projectId) = await _f.IssueAsync(document);
        _holder = await _f.Server.ClientForAccountAsync("holder");
        _holder2 = await _f.Server.ClientForAccountAsync("holder2");
    }

    public async ValueTask DisposeAsync()
    {
        _holder.Dispose();
        _holder2.Dispose();
        await _f.DisposeAsync();
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "OPR-1")]
    public async Task Another_holder_of_the_same_permit_cannot_upload_to_the_first_holders_dataset()
    {
        var tus2 = new TusClient(_holder2, _projectId);

        var own = await tus2.CreateAsync(100, "registry-2026", "r.csv", new string('a', 64));
        var others = await tus2.CreateAsync(100, "omop-2026", "r.csv", new string('a', 64));
        var partial = await tus2.SendCreateAsync(r =>
        {
            r.Headers.Add("Upload-Concat", "partial");
            r.Headers.Add("Upload-Length", "100");
            r.Headers.Add("Upload-Metadata", TusClient.Metadata(("dataset", "omop-2026")));
        });
        var final = await tus2.CreateFinalAsync([own.Headers.Location!.OriginalString], "omop-2026", "r.csv", new string('a', 64));

        // holder2 is past the gate (a member of the project): its own dataset is fine.
        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        var problem = await Api.ProblemAssert.IsProblemAsync(others, HttpStatusCode.Forbidden);
        Assert.Contains("another data holder", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Api.ProblemAssert.IsProblemAsync(partial, HttpStatusCode.Forbidden);
        await Api.ProblemAssert.IsProblemAsync(final, HttpStatusCode.Forbidden);
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "EHDSR-3")]
    public async Task A_holder_sees_only_the_files_of_its_own_datasets_and_the_researcher_sees_all()
    {
        var cohort = await UploadAsync(_holder, "omop-2026", "cohort.csv", CohortCsv);
        var registry = await UploadAsync(_holder2, "registry-2026", "registry.csv", RegistryCsv);
        using var researcher = await _f.Server.ClientForAccountAsync("researcher");

        var seenByHolder = await FileIdsAsync(_holder);
        var seenByHolder2 = await FileIdsAsync(_holder2);
        var seenByResearcher = await FileIdsAsync(researcher);

        Assert.Equal([cohort], seenByHolder);
        Assert.Equal([registry], seenByHolder2);
        Assert.Equal(new[] { cohort, registry }.Order(), seenByResearcher.Order());
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "EHDSR-2")]
    public async Task No_GET_route_gives_anyone_the_bytes_of_a_stored_file_or_of_an_unfinished_upload()
    {
        var tus = new TusClient(_holder, _projectId);
        var key = await tus.ProjectKeyAsync();
        var ciphertext = TusClient.Encrypt(CohortCsv, key);
        var fileId = await UploadAsync(_holder, "omop-2026", "cohort.csv", CohortCsv, ciphertext);
        var unfinished = TusClient.Encrypt(RegistryCsv, key);
        var location = (await new TusClient(_holder2, _projectId).CreateAsync(unfinished.Length, "registry-2026", "registry.csv", TusClient.Sha256Hex(RegistryCsv))).Headers.Location!.OriginalString;
        Assert.Equal(HttpStatusCode.NoContent, (await new TusClient(_holder2, _projectId).PatchAsync(location, 0, unfinished[..(unfinished.Length / 2)])).StatusCode);
        var uploadId = location[(location.LastIndexOf('/') + 1)..];
        // Real ids of everything that exists: the project, its permit, the stored file, the unfinished upload, the dataset.
        string[] candidates = [fileId, uploadId, _permitId, "omop-2026", $"projects/{_projectId}/datasets/omop-2026/{fileId}.c4gh"];
        var secrets = new[]
        {
            ciphertext.AsMemory(ciphertext.Length / 2, 48), ciphertext.AsMemory(ciphertext.Length - 48, 48),
            unfinished.AsMemory(unfinished.Length / 4, 48), CohortCsv.AsMemory(CohortCsv.Length / 2, 48), RegistryCsv.AsMemory(100, 48),
        };
        await using (var stored = await _f.Server.Services.GetRequiredService<OpenSpe.Server.Vault.IObjectStore>().OpenReadAsync($"projects/{_projectId}/datasets/omop-2026/{fileId}.c4gh"))
        {
            // The windows looked for are the bytes the server holds.
            using var copy = new MemoryStream();
            await stored.CopyToAsync(copy);
            Assert.Equal(ciphertext, copy.ToArray());
        }

        var urls = GetRoutes().SelectMany(pattern => Fill(pattern, candidates)).Append(location).Distinct().ToList();

        var attempts = 0;
        foreach (var user in new[] { "holder", "holder2", "researcher", "operator", "admin", "hdab", "auditor" })
        {
            using var client = await _f.Server.ClientForAccountAsync(user);
            foreach (var url in urls)
            {
                using var response = await client.GetAsync(url);
                var body = await response.Content.ReadAsByteArrayAsync();
                Assert.NotEqual(HttpStatusCode.TooManyRequests, response.StatusCode);
                foreach (var secret in secrets)
                {
                    Assert.True(body.AsSpan().IndexOf(secret.Span) < 0, $"{user} received project bytes from GET {url} ({(int)response.StatusCode})");
                }

                attempts++;
            }
        }

        // The attack reached the real file: its metadata is listed at one of the URLs tried, so the route table was filled in right.
        Assert.Contains($"/api/v1/projects/{_projectId}/files", urls);
        Assert.Contains(location, urls);
        Assert.True(attempts > 50, $"only {attempts} requests");
    }

    /// <summary>Every GET route pattern of the running server (the OpenAPI document's own route aside).</summary>
    private IEnumerable<string> GetRoutes() =>
        _f.Server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains("GET") ?? false)
            .Select(e => e.RoutePattern.RawText!)
            .Where(p => !p.Contains("{documentName}", StringComparison.Ordinal));

    /// <summary>The route with <c>{projectId}</c> and <c>{uploadId}</c> filled in, and every other parameter by each candidate.</summary>
    private IEnumerable<string> Fill(string pattern, string[] candidates)
    {
        var path = "/" + pattern.TrimStart('/').Replace("{projectId}", _projectId, StringComparison.Ordinal);
        var parameters = Parameter().Matches(path);
        if (parameters.Count == 0)
        {
            yield return path;
            yield break;
        }

        foreach (var candidate in candidates)
        {
            yield return Parameter().Replace(path, m => m.Groups["name"].Value == "uploadId" ? candidates[1] : Uri.EscapeDataString(candidate).Replace("%2F", "/", StringComparison.Ordinal));
        }
    }

    [GeneratedRegex(@"\{\*{0,2}(?<name>[A-Za-z]+)[^}]*\}")]
    private static partial Regex Parameter();

    private async Task<string> UploadAsync(HttpClient client, string dataset, string filename, byte[] plaintext, byte[]? ciphertext = null)
    {
        var tus = new TusClient(client, _projectId);
        var (_, last) = await tus.UploadAsync(ciphertext ?? TusClient.Encrypt(plaintext, await tus.ProjectKeyAsync()), dataset, filename, TusClient.Sha256Hex(plaintext));
        Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
        return last.Headers.GetValues("Upload-File-Id").Single();
    }

    private async Task<List<string>> FileIdsAsync(HttpClient client)
    {
        var files = await client.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files");
        return files.EnumerateArray().Select(f => f.GetProperty("id").GetString()!).ToList();
    }

    private async Task CreateSecondHolderAsync()
    {
        // Arrange-only: a second data holder account (the dev seed has one), made as HaltTests makes a second operator.
        await _f.Server.EnsureAccountAsync("holder2", "data-holder");
    }
}
