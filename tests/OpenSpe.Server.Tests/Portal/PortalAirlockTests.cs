using System.Net;
using OpenSpe.Server.Tests.Airlock;
using OpenSpe.Server.Tests.Workspaces;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// The researcher's and the output checkers' story in the portal, on the real sandbox: run a job that writes an output, ask
/// for its export, two independent checkers read the report and the preview and approve, the researcher downloads the file
/// (EHDSR-12, EHDSR-13, TIR-25, SPER-2).
/// </summary>
public sealed class PortalAirlockTests
{
    private const string Table = "group,count\na,12\nb,15\n";

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    [Trait("Requirement", "EHDSR-13")]
    [Trait("Requirement", "TIR-25")]
    public async Task A_job_run_in_the_portal_is_exported_reviewed_by_two_checkers_and_downloaded()
    {
        await using var world = await AirlockSandbox.StartAsync();
        var project = world.ProjectId;
        using var researcher = new PortalBrowser(world.F.Server);
        using var _ = await researcher.SignInAsync("researcher", $"/projects/{project}/jobs");
        using var jobsPage = await researcher.GetAsync($"/projects/{project}/jobs");
        var jobsHtml = await jobsPage.Content.ReadAsStringAsync();

        using var run = await researcher.SubmitAsync(jobsHtml, $"/projects/{project}/jobs?handler=Run",
            ("command", $"/bin/sh\n-c\nprintf '{Table.Replace("\n", "\\n", StringComparison.Ordinal)}' > /outputs/table.csv && echo written"));
        Assert.True(run.StatusCode == HttpStatusCode.Redirect, await run.Content.ReadAsStringAsync());
        var jobId = researcher.Browser.Location(run).Segments[^1];
        var log = await JobsApi.LogAsync(world.Researcher, project, jobId);
        using var jobPage = await researcher.GetAsync($"/projects/{project}/jobs/{jobId}");
        var jobHtml = await jobPage.Content.ReadAsStringAsync();

        using var exportsPage = await researcher.GetAsync($"/projects/{project}/exports");
        using var created = await researcher.SubmitAsync(await exportsPage.Content.ReadAsStringAsync(), $"/projects/{project}/exports?handler=Create",
            ("files", "table.csv"), ("reason", "Counts per group for table 2 of the paper; every cell is above the threshold."));
        Assert.True(created.StatusCode == HttpStatusCode.Redirect, await created.Content.ReadAsStringAsync());
        var requestId = researcher.Browser.Location(created).Segments[^1];

        var queues = new List<string>();
        var reviews = new List<string>();
        foreach (var checker in new[] { "checker", "checker2" })
        {
            using var portal = new PortalBrowser(world.F.Server);
            using var __ = await portal.SignInAsync(checker);
            using var queue = await portal.GetAsync("/review");
            queues.Add(await queue.Content.ReadAsStringAsync());
            using var review = await portal.GetAsync($"/review/{project}/{requestId}");
            var reviewHtml = await review.Content.ReadAsStringAsync();
            reviews.Add(reviewHtml);
            using var decided = await portal.SubmitAsync(reviewHtml, $"/review/{project}/{requestId}?handler=Decide", ("decision", "approve"), ("comment", "Counts above 10, no identifiers."));
            Assert.True(decided.StatusCode == HttpStatusCode.Redirect, await decided.Content.ReadAsStringAsync());
        }

        using var researcherQueue = await researcher.GetAsync("/review");
        using var exportPage = await researcher.GetAsync($"/projects/{project}/exports/{requestId}");
        var exportHtml = await exportPage.Content.ReadAsStringAsync();
        using var download = await researcher.GetAsync($"/projects/{project}/exports/{requestId}?handler=Download&file=table.csv");
        using var researcherPreview = await world.Researcher.GetAsync($"{world.Exports}/{requestId}/files/table.csv/preview");

        Assert.Equal(JobStates.Succeeded, log[^1].State);
        Assert.Contains("written", jobHtml, StringComparison.Ordinal);
        Assert.Contains(">succeeded<", jobHtml, StringComparison.Ordinal);
        Assert.All(queues, q => Assert.Contains(requestId, q, StringComparison.Ordinal));
        Assert.All(reviews, r => Assert.Contains("<th scope=\"col\">group</th>", r, StringComparison.Ordinal));
        Assert.All(reviews, r => Assert.Contains("every cell is above the threshold", r, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Forbidden, researcherQueue.StatusCode);
        Assert.Contains("?handler=Download&amp;file=table.csv", exportHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(Table, await download.Content.ReadAsStringAsync());
        Assert.True(researcherPreview.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"the requester previewed: {(int)researcherPreview.StatusCode}");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    [Trait("Requirement", "TIR-25")]
    public async Task The_export_page_lists_the_files_of_outputs_to_tick_and_a_ticked_file_is_requested_without_typing_its_name()
    {
        await using var world = await AirlockSandbox.StartAsync();
        var project = world.ProjectId;
        using var researcher = new PortalBrowser(world.F.Server);
        using var _ = await researcher.SignInAsync("researcher", $"/projects/{project}/exports");
        using var before = await researcher.GetAsync($"/projects/{project}/exports");
        var beforeHtml = await before.Content.ReadAsStringAsync();
        await world.RunAsync($"printf '{Table.Replace("\n", "\\n", StringComparison.Ordinal)}' > /outputs/table.csv && mkdir -p /outputs/figs && printf 'n\\n' > /outputs/figs/notes.txt && ln -s /etc/passwd /outputs/passwd.txt");

        using var exportsPage = await researcher.GetAsync($"/projects/{project}/exports");
        var html = await exportsPage.Content.ReadAsStringAsync();
        using var created = await researcher.SubmitAsync(html, $"/projects/{project}/exports?handler=Create",
            ("picked", "table.csv"), ("files", ""), ("reason", "Counts per group for table 2 of the paper."));
        Assert.True(created.StatusCode == HttpStatusCode.Redirect, await created.Content.ReadAsStringAsync());
        var requestId = researcher.Browser.Location(created).Segments[^1];
        var request = await world.ShowAsync(requestId);

        Assert.Contains("There is no file in /outputs yet", beforeHtml, StringComparison.Ordinal);
        Assert.Contains("<input type=\"checkbox\" id=\"pick-0\" name=\"picked\" value=\"figs/notes.txt\" />", html, StringComparison.Ordinal);
        Assert.Contains("<input type=\"checkbox\" id=\"pick-1\" name=\"picked\" value=\"table.csv\" />", html, StringComparison.Ordinal);
        Assert.Contains("<label for=\"pick-1\">table.csv</label>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("passwd", html, StringComparison.Ordinal);
        Assert.Equal("table.csv", Assert.Single(request.Files).Name);
        Assert.Equal(Table.Length, request.Files[0].Size);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    [Trait("Requirement", "TIR-25")]
    public async Task An_export_with_an_output_description_is_judged_by_the_rules_and_a_malformed_one_is_refused_at_its_field_asking_nothing()
    {
        await using var world = await AirlockSandbox.StartAsync();
        var project = world.ProjectId;
        await world.RunAsync("printf 'group,count\\na,2\\nb,15\\n' > /outputs/small.csv");
        using var researcher = new PortalBrowser(world.F.Server);
        using var _ = await researcher.SignInAsync("researcher", $"/projects/{project}/exports");
        using var page = await researcher.GetAsync($"/projects/{project}/exports");
        var html = await page.Content.ReadAsStringAsync();

        using var notJson = await researcher.SubmitAsync(html, $"/projects/{project}/exports?handler=Create",
            ("files", "small.csv"), ("reason", "Counts per group."), ("description", "{\"outputs\": [ {\"file\": "));
        var notJsonHtml = await notJson.Content.ReadAsStringAsync();
        using var unknownKind = await researcher.SubmitAsync(html, $"/projects/{project}/exports?handler=Create",
            ("files", "small.csv"), ("reason", "Counts per group."), ("description", "{\"outputs\": [{\"file\": \"small.csv\", \"kind\": \"horoscope\"}]}"));
        var unknownKindHtml = await unknownKind.Content.ReadAsStringAsync();
        var before = await world.Researcher.GetStringAsync(world.Exports, TestContext.Current.CancellationToken);
        using var described = await researcher.SubmitAsync(html, $"/projects/{project}/exports?handler=Create",
            ("files", "small.csv"), ("reason", "Counts per group."),
            ("description", "{\"outputs\": [{\"file\": \"small.csv\", \"kind\": \"frequency\", \"labelColumns\": [\"group\"], \"countColumns\": [\"count\"]}]}"));
        using var shown = await researcher.Browser.FollowAsync(described);
        var shownHtml = await shown.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Contains("The output description is not valid JSON", notJsonHtml, StringComparison.Ordinal);
        Assert.Contains("Counts per group.", notJsonHtml, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, unknownKind.StatusCode);
        Assert.Contains("horoscope", unknownKindHtml, StringComparison.Ordinal);
        // Both refusals are at the description field, and the textarea names them (WCAG 3.3.1).
        foreach (var refused in new[] { notJsonHtml, unknownKindHtml })
        {
            Assert.Contains("<textarea id=\"description\" name=\"description\" rows=\"5\" aria-describedby=\"description-help description-error\" aria-invalid=\"true\">", refused, StringComparison.Ordinal);
            Assert.Contains("<p id=\"description-error\" class=\"field-error\" role=\"alert\">", refused, StringComparison.Ordinal);
        }

        Assert.Equal("[]", before);
        Assert.True(described.StatusCode == HttpStatusCode.Redirect, await described.Content.ReadAsStringAsync());
        // The rule judged the table: the cell of 2 is below the permit's threshold.
        Assert.Contains("failed the automatic checks", shownHtml, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    [Trait("Requirement", "TIR-25")]
    public async Task The_review_page_marks_in_the_preview_table_the_cell_the_automatic_checks_failed()
    {
        await using var world = await AirlockSandbox.StartAsync();
        var project = world.ProjectId;
        await world.RunAsync("printf 'group,count\\na,2\\nb,15\\n' > /outputs/small.csv");
        using var researcher = new PortalBrowser(world.F.Server);
        using var _ = await researcher.SignInAsync("researcher", $"/projects/{project}/exports");
        using var page = await researcher.GetAsync($"/projects/{project}/exports");
        using var created = await researcher.SubmitAsync(await page.Content.ReadAsStringAsync(), $"/projects/{project}/exports?handler=Create",
            ("files", "small.csv"), ("reason", "Counts per group."),
            ("description", "{\"outputs\": [{\"file\": \"small.csv\", \"kind\": \"frequency\", \"labelColumns\": [\"group\"], \"countColumns\": [\"count\"]}]}"));
        Assert.True(created.StatusCode == HttpStatusCode.Redirect, await created.Content.ReadAsStringAsync());
        var requestId = researcher.Browser.Location(created).Segments[^1];
        var report = await world.ShowAsync(requestId);
        var rule = report.Files[0].Findings.EnumerateArray().Single().GetProperty("rule").GetString();

        using var checker = new PortalBrowser(world.F.Server);
        using var __ = await checker.SignInAsync("checker");
        using var review = await checker.GetAsync($"/review/{project}/{requestId}");
        var html = await review.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, review.StatusCode);
        // The cell of 2 (data row 1, column count) is marked with the rule that failed it, in words; the cell of 15 is not.
        Assert.Contains($"<td class=\"flagged\" data-flagged=\"{rule}\"><mark>2</mark> <small>(flagged: {rule})</small></td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>15</td>", html, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(html, "<td class=\"flagged\""));
        Assert.Contains("Cells the automatic checks flagged are marked", html, StringComparison.Ordinal);
    }
}
