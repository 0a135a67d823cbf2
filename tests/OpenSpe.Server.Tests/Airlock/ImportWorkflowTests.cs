using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Api;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// Import requests end to end (SPER-3, TIR-5): a member or the holder brings a file in, its type is checked by extension and
/// content, an independent output checker approves, and the file appears read-only in the real sandbox's /project/imports.
/// </summary>
public sealed class ImportWorkflowTests : IAsyncLifetime
{
    private const string Script = "print('cohort helper v1')\n";
    private AirlockSandbox _w = null!;

    public async ValueTask InitializeAsync() => _w = await AirlockSandbox.StartAsync(reviewersRequired: 2);

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    private string Imports => $"/api/v1/projects/{_w.ProjectId}/imports";

    private async Task<HttpResponseMessage> ImportAsync(HttpClient client, string name, byte[] content, string reason = "analysis helper")
    {
        using var form = new MultipartFormDataContent { { new StringContent(reason), "reason" } };
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "files", name);
        return await client.PostAsync(Imports, form);
    }

    private async Task<AirlockRequestView> ImportOkAsync(HttpClient client, string name, byte[] content)
    {
        var response = await ImportAsync(client, name, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonSerializer.Deserialize<AirlockRequestView>(body, JsonSerializerOptions.Web)!;
    }

    private async Task<HttpResponseMessage> ReviewAsync(string account, string requestId, string decision = "approve")
    {
        using var client = await _w.F.Server.ClientForAccountAsync(account);
        return await client.PostAsJsonAsync($"{Imports}/{requestId}/reviews", new { decision, comment = "code reviewed" });
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "TIR-5")]
    public async Task One_independent_approval_places_the_file_read_only_in_project_imports()
    {
        using var holder = await _w.F.Server.ClientForAccountAsync("holder");
        var request = await ImportOkAsync(holder, "helper.py", Encoding.UTF8.GetBytes(Script));
        Assert.Equal((AirlockStates.Pending, 1), (request.State, request.ReviewersRequired));
        var before = await _w.RunAsync($"test -e /project/imports/{request.Id}/helper.py && echo present || echo absent");

        var review = await ReviewAsync("checker", request.Id);
        var inside = await _w.RunAsync(
            $"f=/project/imports/{request.Id}/helper.py; sha256sum $f | cut -c1-64; "
            + "(echo x >> $f) 2>/dev/null && echo writable || echo read-only; "
            + "rm -f $f 2>/dev/null; test -e $f && echo kept || echo removed; "
            + $"touch /project/imports/{request.Id}/new 2>/dev/null && echo dir-writable || echo dir-read-only");

        Assert.Equal("absent\n", before);
        Assert.Equal(HttpStatusCode.OK, review.StatusCode);
        Assert.Equal($"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Script)))}\nread-only\nkept\ndir-read-only\n", inside);
        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        Assert.Contains(records, r => r.Action == "import.placed" && r.ResourceId == request.Id);
    }

    [Theory]
    [InlineData("tool.py", "ELF")]
    [InlineData("tool.sh", "text")]
    [InlineData("data.csv", "zip")]
    [Trait("Requirement", "TIR-5")]
    [Trait("Requirement", "SPER-3")]
    public async Task A_file_type_the_permit_does_not_allow_by_name_or_content_is_refused(string name, string content)
    {
        var bytes = content switch
        {
            "ELF" => [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            "zip" => [(byte)'P', (byte)'K', 3, 4, 20, 0, 0, 0, 8, 0],
            _ => Encoding.UTF8.GetBytes("echo hi\n"),
        };

        var response = await ImportAsync(_w.Researcher, name, bytes);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(ErrorCodes.AirlockImportTypeRefused, problem.GetProperty("code").GetString());
        Assert.Empty((await _w.Researcher.GetFromJsonAsync<List<AirlockRequestView>>(Imports, JsonSerializerOptions.Web))!);
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "SDR-1")]
    public async Task An_imports_directory_planted_as_a_symlink_receives_nothing()
    {
        await _w.RunAsync("ln -s /outputs /project/imports");
        var request = await ImportOkAsync(_w.Researcher, "helper.py", Encoding.UTF8.GetBytes(Script));

        var review = await ReviewAsync("checker", request.Id);
        var outputs = await _w.RunAsync("ls -A /outputs | wc -l");

        Assert.Equal(HttpStatusCode.OK, review.StatusCode);
        Assert.Equal("0\n", outputs);
        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        Assert.Contains(records, r => r.Action == "import.placement-failed" && r.ResourceId == request.Id && r.DetailsJson.Contains("SymbolicLink", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "EHDSR-13")]
    public async Task Members_do_not_review_imports_and_the_requester_cannot_either()
    {
        var request = await ImportOkAsync(_w.Researcher, "helper.py", Encoding.UTF8.GetBytes(Script));

        await ProblemAssert.IsProblemAsync(await ReviewAsync("researcher", request.Id), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await ReviewAsync("researcher2", request.Id), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await ReviewAsync("holder", request.Id), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await ReviewAsync("hdab", request.Id), HttpStatusCode.NotFound);

        var shown = await _w.Researcher.GetFromJsonAsync<AirlockRequestView>($"{Imports}/{request.Id}", JsonSerializerOptions.Web);
        Assert.Empty(shown!.Reviews);
    }

    [Theory]
    [InlineData("")]
    [InlineData("no-file")]
    [InlineData("bad-name")]
    [InlineData("json")]
    [Trait("Requirement", "SPER-3")]
    public async Task Malformed_imports_are_4xx_and_change_nothing(string kind)
    {
        HttpResponseMessage response;
        if (kind == "json")
        {
            response = await _w.Researcher.PostAsJsonAsync(Imports, new { reason = "x" });
        }
        else
        {
            using var form = new MultipartFormDataContent { { new StringContent(kind == "" ? "" : "why"), "reason" } };
            if (kind != "no-file")
            {
                form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(Script)), "files", kind == "bad-name" ? "../x.py" : "ok.py");
            }

            response = await _w.Researcher.PostAsync(Imports, form);
        }

        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await _w.Researcher.GetFromJsonAsync<List<AirlockRequestView>>(Imports, JsonSerializerOptions.Web))!);
    }
}
