using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Tests.Transfers;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// Item 6 of the airlock issue, "nothing else leaves" (EHDSR-12, SDR-1, TIR-25): a marker is planted in a dataset (/data and
/// the vault), in /project, in /outputs, in a pending export and a pending import (the airlock's frozen copies), and in one
/// export file that two checkers release. Then every GET endpoint the server maps is called as every kind of account with
/// every real id, and the marker may appear in exactly one answer: the released file's download, to the project's researchers.
/// </summary>
/// <remarks>
/// Note: a job's log is what the member's own code prints; the job that plants the marker prints nothing. That channel (and
/// the desktop's screen) is the researcher's view into their workspace, not a way out that the airlock controls; see
/// docs/architecture.md ("Airlock").
/// </remarks>
public sealed class NothingElseLeavesTests : IAsyncLifetime
{
    private const string Marker = "ZZMARKER-4c1e-do-not-leave";
    private static readonly string[] Accounts = ["researcher", "researcher2", "researcher3", "holder", "checker", "checker2", "hdab", "operator", "auditor", "admin"];
    private static readonly string[] Members = ["researcher", "researcher2", "researcher3"];
    private AirlockSandbox _w = null!;

    // Note: the walk makes thousands of requests from one address in seconds; the rate limiter is not what this test is about.
    public async ValueTask InitializeAsync() => _w = await AirlockSandbox.StartAsync(new Dictionary<string, string?>
    {
        ["RateLimiting:PerAddressBurst"] = "100000",
        ["RateLimiting:PerAddressPerSecond"] = "100000",
        ["RateLimiting:PerIdentityBurst"] = "100000",
        ["RateLimiting:PerIdentityPerSecond"] = "100000",
    });

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "TIR-25")]
    public async Task No_endpoint_returns_workspace_vault_or_staging_bytes_but_the_released_download()
    {
        // The marker in a dataset (vault, and /data while a job runs), /project and /outputs.
        var csv = Encoding.UTF8.GetBytes($"id,label\n1,{Marker}\n");
        using (var holder = await _w.F.Server.ClientForAccountAsync("holder"))
        {
            var tus = new TusClient(holder, _w.ProjectId);
            await tus.UploadAsync(TusClient.Encrypt(csv, await tus.ProjectKeyAsync()), "omop-2026", "cohort.csv", TusClient.Sha256Hex(csv));
        }

        await _w.RunAsync("cp /data/omop-2026/cohort.csv /outputs/released.csv && cp /data/omop-2026/cohort.csv /outputs/pending.csv && cp /data/omop-2026/cohort.csv /project/notes.csv");
        var jobId = (await _w.Researcher.GetFromJsonAsync<List<JobView>>($"/api/v1/projects/{_w.ProjectId}/jobs"))![0].Id;
        var export = await _w.RequestOkAsync("released.csv", "pending.csv");
        Assert.Equal(HttpStatusCode.OK, (await _w.ReviewAsync("checker", export.Id, new { file = "released.csv", decision = "approve", comment = "ok" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _w.ReviewAsync("checker2", export.Id, new { file = "released.csv", decision = "approve", comment = "ok" })).StatusCode);
        using var form = new MultipartFormDataContent { { new StringContent("helper"), "reason" } };
        var part = new ByteArrayContent(Encoding.UTF8.GetBytes($"# {Marker}\nprint(1)\n"));
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, "files", "helper.py");
        var import = await _w.Researcher.PostAsync($"/api/v1/projects/{_w.ProjectId}/imports", form);
        Assert.Equal(HttpStatusCode.Created, import.StatusCode);
        var importId = System.Text.Json.JsonDocument.Parse(await import.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        var fileId = System.Text.Json.JsonDocument.Parse(await _w.Researcher.GetStringAsync($"/api/v1/projects/{_w.ProjectId}/files")).RootElement[0].GetProperty("id").ToString();

        var values = new Dictionary<string, string[]>(StringComparer.Ordinal)
        {
            ["projectId"] = [_w.ProjectId],
            ["id"] = [_w.PermitId],
            ["requestId"] = [export.Id, importId],
            ["name"] = ["released.csv", "pending.csv", "helper.py"],
            ["jobId"] = [jobId],
            ["datasetId"] = ["omop-2026"],
            ["fileId"] = [fileId],
            ["project"] = [_w.ProjectId],
        };
        var routes = _w.F.Server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains("GET") == true)
            .Select(e => e.RoutePattern.RawText!).Distinct(StringComparer.Ordinal).ToList();

        var failures = new List<string>();
        var released = 0;
        var previewed = 0;
        var calls = 0;
        foreach (var account in Accounts)
        {
            using var client = await _w.F.Server.ClientForAccountAsync(account);
            foreach (var route in routes)
            {
                foreach (var path in Expand(route, values))
                {
                    calls++;
                    using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
                    var body = await response.Content.ReadAsStringAsync();
                    if (!body.Contains(Marker, StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var allowed = route.EndsWith("/exports/{requestId}/files/{name}", StringComparison.Ordinal) && path.Contains(export.Id, StringComparison.Ordinal)
                        && path.EndsWith("/released.csv", StringComparison.Ordinal) && Members.Contains(account);
                    // The independent output checkers read a text preview of each file of the request they review (EHDSR-13).
                    var reviewed = route.EndsWith("/exports/{requestId}/files/{name}/preview", StringComparison.Ordinal) && path.Contains(export.Id, StringComparison.Ordinal)
                        && account is "checker" or "checker2";
                    if (allowed)
                    {
                        released++;
                    }
                    else if (reviewed)
                    {
                        previewed++;
                    }
                    else
                    {
                        failures.Add($"{account}: GET {path} ({(int)response.StatusCode}) returned the marker");
                    }
                }
            }
        }

        TestContext.Current.SendDiagnosticMessage($"{calls} GET calls over {routes.Count} routes as {Accounts.Length} accounts");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // The one way out works (a positive control: the walk did reach the outbox), for each researcher of the permit.
        Assert.Equal(Members.Length, released);
        // Two checkers, two files of the export request.
        Assert.Equal(4, previewed);
    }

    private static IEnumerable<string> Expand(string route, Dictionary<string, string[]> values)
    {
        IEnumerable<string> paths = [""];
        foreach (var segment in route.Trim('/').Split('/'))
        {
            var name = segment.StartsWith('{') ? segment.Trim('{', '}').TrimStart('*').Split(':', '?')[0] : null;
            var options = name is null ? [segment] : values.TryGetValue(name, out var known) ? known.Select(Uri.EscapeDataString).ToArray() : ["no-such-thing"];
            paths = paths.SelectMany(p => options.Select(o => p + "/" + o)).ToList();
        }

        return paths;
    }
}
