using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Transfers;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// Import requests end to end (SPER-3, TIR-5): a member or the holder brings a file in, its type is checked by extension and
/// content, an independent output checker approves, and the file appears read-only in the real sandbox's /project/imports.
/// </summary>
public sealed class ImportWorkflowTests : IAsyncLifetime
{
    private const string Script = "print('cohort helper v1')\n";
    private AirlockSandbox _w = null!;

    // Note: an import request may carry more than the API's 1 MiB request limit; 4 MiB here, so the tests can cross both.
    private const long ImportLimit = 4L << 20;

    public async ValueTask InitializeAsync() =>
        _w = await AirlockSandbox.StartAsync(new Dictionary<string, string?> { ["Airlock:MaxImportRequestBytes"] = ImportLimit.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            reviewersRequired: 2);

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
    public async Task An_imports_directory_planted_as_a_symlink_receives_nothing_and_the_file_is_placed_again_once_it_is_gone()
    {
        await _w.RunAsync("ln -s /outputs /project/imports");
        var request = await ImportOkAsync(_w.Researcher, "helper.py", Encoding.UTF8.GetBytes(Script));

        var review = await ReviewAsync("checker", request.Id);
        var outputs = await _w.RunAsync("ls -A /outputs | wc -l");
        var failed = await review.Content.ReadFromJsonAsync<AirlockRequestView>(JsonSerializerOptions.Web);

        Assert.Equal(HttpStatusCode.OK, review.StatusCode);
        Assert.Equal("0\n", outputs);
        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        Assert.Contains(records, r => r.Action == "import.placement-failed" && r.ResourceId == request.Id && r.DetailsJson.Contains("SymbolicLink", StringComparison.Ordinal));
        // The request says so, in words, rather than "approved" alone: the file is approved and not placed.
        var file = Assert.Single(failed!.Files);
        Assert.Equal((AirlockStates.Approved, AirlockPlacements.Failed), (file.State, file.Placement));
        Assert.Contains("symbolic link", file.PlacementProblem, StringComparison.Ordinal);
        var shown = await _w.Researcher.GetFromJsonAsync<AirlockRequestView>($"{Imports}/{request.Id}", JsonSerializerOptions.Web);
        Assert.Equal(AirlockPlacements.Failed, shown!.Files[0].Placement);

        // Asked again while the link is still there: nothing is placed, and the answer says why again.
        using var again = await _w.Researcher.PostAsync($"{Imports}/{request.Id}/placement", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(AirlockPlacements.Failed, (await again.Content.ReadFromJsonAsync<AirlockRequestView>(JsonSerializerOptions.Web))!.Files[0].Placement);
        Assert.Equal("0\n", await _w.RunAsync("ls -A /outputs | wc -l"));

        // The researcher removes the link from inside; the other member (the holder) asks again: the reviewed bytes land.
        await _w.RunAsync("rm /project/imports");
        using var holder = await _w.F.Server.ClientForAccountAsync("holder");
        using var placed = await holder.PostAsync($"{Imports}/{request.Id}/placement", null);
        var view = await placed.Content.ReadFromJsonAsync<AirlockRequestView>(JsonSerializerOptions.Web);
        var inside = await _w.RunAsync($"sha256sum /project/imports/{request.Id}/helper.py | cut -c1-64");

        Assert.Equal(HttpStatusCode.OK, placed.StatusCode);
        Assert.Equal((AirlockPlacements.Placed, null), (view!.Files[0].Placement, view.Files[0].PlacementProblem));
        Assert.Equal(request.Files[0].Sha256 + "\n", inside);
        records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        Assert.Contains(records, r => r.Action == "import.placed" && r.ResourceId == request.Id && r.ActorUsername == "holder");

        // Nothing waits any more: a third ask is a conflict with its own code, and changes nothing.
        using var third = await _w.Researcher.PostAsync($"{Imports}/{request.Id}/placement", null);
        var problem = await ProblemAssert.IsProblemAsync(third, HttpStatusCode.Conflict);
        Assert.Equal(ErrorCodes.AirlockNothingToPlace, problem.GetProperty("code").GetString());
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "SDR-3")]
    public async Task A_frozen_copy_changed_at_rest_is_not_placed_and_the_request_says_so()
    {
        var request = await ImportOkAsync(_w.Researcher, "helper.py", Encoding.UTF8.GetBytes(Script));
        // Someone with access to the object store swaps the file for another script, validly encrypted to the project key.
        var key = await new TusClient(_w.Researcher, _w.ProjectId).ProjectKeyAsync();
        await _w.F.Server.Services.GetRequiredService<IObjectStore>().PutAsync(FrozenFiles.KeyFor(_w.ProjectId, request.Id, 0),
            new MemoryStream(TusClient.Encrypt(Encoding.UTF8.GetBytes("import os; os.system('curl evil')\n"), key)), TestContext.Current.CancellationToken);

        var review = await ReviewAsync("checker", request.Id);
        var view = await review.Content.ReadFromJsonAsync<AirlockRequestView>(JsonSerializerOptions.Web);
        var inside = await _w.RunAsync($"ls -A /project/imports/{request.Id} 2>/dev/null | wc -l");

        Assert.Equal(HttpStatusCode.OK, review.StatusCode);
        Assert.Equal((AirlockStates.Approved, AirlockPlacements.Failed), (view!.Files[0].State, view.Files[0].Placement));
        Assert.Contains("no longer has the SHA-256 it was reviewed with", view.Files[0].PlacementProblem, StringComparison.Ordinal);
        Assert.Equal("0\n", inside);
        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        Assert.Contains(records, r => r.Action == "import.integrity-failed" && r.ResourceId == request.Id);
        Assert.DoesNotContain(records, r => r.Action == "import.placed");
        // Spools of the decrypted copy are gone.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_w.F.Server.DataDirectory, "data", "airlock-work"), "place-*"));
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "EHDSR-13")]
    public async Task Only_the_projects_members_may_ask_for_a_placement_and_only_of_an_approved_file()
    {
        var request = await ImportOkAsync(_w.Researcher, "helper.py", Encoding.UTF8.GetBytes(Script));
        var path = $"{Imports}/{request.Id}/placement";

        // Pending: nothing approved, nothing to place.
        var pending = await ProblemAssert.IsProblemAsync(await _w.Researcher.PostAsync(path, null), HttpStatusCode.Conflict);
        Assert.Equal(ErrorCodes.AirlockNothingToPlace, pending.GetProperty("code").GetString());
        // The reviewing checker, the HDAB and the operator are no members: the request is hidden from them.
        foreach (var account in new[] { "checker", "hdab", "operator" })
        {
            using var client = await _w.F.Server.ClientForAccountAsync(account);
            await ProblemAssert.IsProblemAsync(await client.PostAsync(path, null), HttpStatusCode.NotFound);
        }

        await ProblemAssert.IsProblemAsync(await _w.Researcher.PostAsync($"{Imports}/imp-0000000000000000000000000000000000000000/placement", null), HttpStatusCode.NotFound);
        // Signed out, and a member whose account was disabled (a leaver): 401, before anything about the request is said.
        Assert.Equal(HttpStatusCode.Unauthorized, (await _w.F.Server.Client.PostAsync(path, null)).StatusCode);
        using var leaver = await _w.F.Server.ClientForAccountAsync("researcher2");
        Assert.Equal(HttpStatusCode.OK, (await _w.F.PostAsAsync("admin", "/api/v1/admin/users/researcher2/disable", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await leaver.PostAsync(path, null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await _w.F.PostAsAsync("operator", "/api/v1/halts", new { projectId = _w.ProjectId, reason = "incident" })).StatusCode);
        await ProblemAssert.IsProblemAsync(await _w.Researcher.PostAsync(path, null), HttpStatusCode.Locked);
        var records = await _w.F.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        Assert.DoesNotContain(records, r => r.Action is "import.placed" or "import.placement-failed");
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "TIR-5")]
    public async Task An_import_larger_than_the_APIs_request_limit_is_taken_up_to_the_airlocks_and_a_larger_one_changes_nothing()
    {
        // 3 MiB of CSV: over Api:MaxRequestBodyBytes (1 MiB), under Airlock:MaxImportRequestBytes (4 MiB here).
        var row = Encoding.UTF8.GetBytes("region,year,count\n");
        var csv = new byte[3 << 20];
        for (var i = 0; i < csv.Length; i++)
        {
            csv[i] = row[i % row.Length];
        }

        var taken = await ImportOkAsync(_w.Researcher, "reference.csv", csv);
        var file = Assert.Single(taken.Files);
        Assert.Equal((csv.LongLength, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(csv))), (file.Size, file.Sha256));

        // A stranger's large body is refused by the project's answer before a byte of it is spooled, not judged on size.
        using var hdab = await _w.F.Server.ClientForAccountAsync("hdab");
        await ProblemAssert.IsProblemAsync(await ImportAsync(hdab, "reference.csv", csv), HttpStatusCode.NotFound);

        // Over the airlock's limit: 413 in words, and nothing is stored.
        var response = await ImportAsync(_w.Researcher, "reference.csv", new byte[(int)ImportLimit + 1]);
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("Airlock:MaxImportRequestBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var listed = await _w.Researcher.GetFromJsonAsync<List<AirlockRequestView>>(Imports, JsonSerializerOptions.Web);
        Assert.Equal([taken.Id], listed!.Select(r => r.Id));
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
