using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace OpenSpe.Server.Portal.Pages.Audit;

/// <summary>
/// The auditor's page: the audit chain's last recorded verification (when it ran, who ran it, what it covered and found) with
/// a form that verifies the whole chain now, the newest signed checkpoint and each witness's state (the checkpoint it holds, the
/// records signed since, its last failed push, a contradiction with the log), a search by actor,
/// project, action and time, and the export of the records (<c>GET /api/v1/audit/export</c>, JSON Lines or CSV, by actor, project, action and
/// time) streamed through to the browser as a file.
/// </summary>
/// <remarks>
/// Note: the export handler is a streaming answer for the audit middleware (opened and closed records), because a held answer
/// would spool the whole export to a temporary file before the first byte, and a failure after its first byte is then cut in
/// the browser as the API's stream is cut, never ended cleanly.
/// </remarks>
[global::OpenSpe.Server.Audit.AuditStreaming(Handler = "Export")]
internal sealed class AuditModel : PortalPageModel
{
    /// <summary>The last verification of the whole chain the log records; null before the first one.</summary>
    public AuditLastVerificationView? LastVerification { get; private set; }

    /// <summary>The newest signed checkpoint, the one pushed to the witnesses; null before the first one.</summary>
    public OpenSpe.Core.Audit.AuditCheckpointDocument? LatestCheckpoint { get; private set; }

    /// <summary>The configured witnesses and how far each has got (never null once shown).</summary>
    public AuditWitnessesView? Witnesses { get; private set; }

    /// <summary>The records found (at most 100, newest page as the API pages).</summary>
    public IReadOnlyList<AuditRecordView> Records { get; private set; } = [];

    /// <summary>The actor filter.</summary>
    public string? Actor { get; private set; }

    /// <summary>The project filter.</summary>
    public string? ProjectFilter { get; private set; }

    /// <summary>The action filter.</summary>
    public string? ActionFilter { get; private set; }

    /// <summary>From (UTC, as the form field holds it).</summary>
    public string? Since { get; private set; }

    /// <summary>Until (UTC).</summary>
    public string? Until { get; private set; }

    /// <summary>Why the search was refused.</summary>
    public string? SearchError { get; private set; }

    /// <summary>The export's format (<c>jsonl</c> or <c>csv</c>).</summary>
    public string ExportFormat { get; private set; } = "jsonl";

    /// <summary>The export's start (UTC, as the form field holds it).</summary>
    public string? ExportSince { get; private set; }

    /// <summary>The export's end (UTC).</summary>
    public string? ExportUntil { get; private set; }

    /// <summary>The export's actor filter (username or subject id).</summary>
    public string? ExportActor { get; private set; }

    /// <summary>The export's project filter.</summary>
    public string? ExportProject { get; private set; }

    /// <summary>The export's action filter.</summary>
    public string? ExportAction { get; private set; }

    /// <summary>
    /// Why the export was refused, by field (<c>format</c>, <c>actor</c>, <c>project</c>, <c>action</c>, <c>since</c>,
    /// <c>until</c>, or <c>export</c> for the whole form).
    /// </summary>
    public IReadOnlyDictionary<string, string> ExportErrors { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Shows the last recorded verification and the newest checkpoint, and searches; verifies nothing.</summary>
    public Task<IActionResult> OnGetAsync(string? actor, string? project, string? action, string? since, string? until) =>
        ShowAsync(actor, project, action, since, until);

    /// <summary>Verifies the whole chain now (the API records the result), then shows the page with it.</summary>
    public Task<IActionResult> OnPostVerifyAsync()
    {
        Title = PortalText.Get("NavAudit");
        return VerifyAuditChainAsync("/audit");
    }

    /// <summary>
    /// Downloads the export: the API's answer streamed through as it comes (never held whole: an export of the whole log can
    /// be far larger than memory), with the API's content type and a file name. The API audits it as it audits any export
    /// (a <c>stream opened</c> and a <c>stream closed</c> record naming the auditor), and refuses it to everyone else.
    /// </summary>
    public async Task<IActionResult> OnGetExportAsync(string? format, string? actor, string? project, string? action, string? since, string? until)
    {
        (ExportFormat, ExportSince, ExportUntil) = (string.IsNullOrWhiteSpace(format) ? "jsonl" : format.Trim(), since, until);
        (ExportActor, ExportProject, ExportAction) = (actor, project, action);
        var query = new Dictionary<string, string?>(StringComparer.Ordinal) { ["format"] = ExportFormat };
        // Note: the filters go to the API as given (trimmed); the API checks them as it checks the search's, and its field
        // errors come back to the fields here, so the portal keeps no second rule.
        Add(query, "actor", actor);
        Add(query, "project", project);
        Add(query, "action", action);
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!AddTime(query, "since", since))
        {
            errors["since"] = PortalText.Get("AuditBadTime");
        }

        if (!AddTime(query, "until", until))
        {
            errors["until"] = PortalText.Get("AuditBadTime");
        }

        if (errors.Count > 0)
        {
            return await RefuseExportAsync(errors, 400);
        }

        var backchannel = HttpContext.RequestServices.GetRequiredService<PortalBackchannel>();
        var response = await backchannel.DownloadAsync(HttpContext, await AccessTokenAsync(), QueryHelpers.AddQueryString("/api/v1/audit/export", query));
        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                var problem = ApiProblem.From((int)response.StatusCode, await PortalBackchannel.ReadJsonAsync(response, HttpContext.RequestAborted));
                if (problem.Status is 400 && problem.Errors.Count > 0)
                {
                    return await RefuseExportAsync(problem.ByField(), 400);
                }

                // Note: any other refusal (403 to a non-auditor, 401, a halt) replaces the page, as the page's own read would.
                return ShowProblem(problem);
            }
        }

        HttpContext.Response.RegisterForDispose(response);
        var contentType = response.Content.Headers.ContentType?.ToString() ?? "application/octet-stream";
        var extension = ExportFormat == "csv" ? "csv" : "jsonl";
        var at = HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var name = $"openspe-audit-{at.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.{extension}";
        return File(await response.Content.ReadAsStreamAsync(HttpContext.RequestAborted), contentType, name);
    }

    private async Task<IActionResult> RefuseExportAsync(IReadOnlyDictionary<string, string> errors, int status)
    {
        var shown = await ShowAsync(null, null, null, null, null);
        if (Problem is null)
        {
            ExportErrors = errors;
            Response.StatusCode = status;
        }

        return shown;
    }

    private async Task<IActionResult> ShowAsync(string? actor, string? project, string? action, string? since, string? until)
    {
        Title = PortalText.Get("NavAudit");
        (Actor, ProjectFilter, ActionFilter, Since, Until) = (actor, project, action, since, until);
        // Note: the last verification the log records and the newest checkpoint, both single reads; verifying the whole chain
        // on every view was slow on a large log and left an audit.verified record per view. 404 is "none yet", shown as such.
        var verification = await GetAsync<AuditLastVerificationView>("/api/v1/audit/verifications/latest");
        if (!verification.Succeeded && verification.Status != 404)
        {
            return ShowProblem(verification.Problem!);
        }

        var checkpoint = await GetAsync<OpenSpe.Core.Audit.AuditCheckpointDocument>("/api/v1/audit/checkpoints/latest");
        if (!checkpoint.Succeeded && checkpoint.Status != 404)
        {
            return ShowProblem(checkpoint.Problem!);
        }

        var witnesses = await GetAsync<AuditWitnessesView>("/api/v1/audit/witnesses");
        if (!witnesses.Succeeded)
        {
            return ShowProblem(witnesses.Problem!);
        }

        (LastVerification, LatestCheckpoint, Witnesses) = (verification.Value, checkpoint.Value, witnesses.Value);
        var query = new Dictionary<string, string?>(StringComparer.Ordinal) { ["limit"] = "100" };
        Add(query, "actor", actor);
        Add(query, "project", project);
        Add(query, "action", action);
        if (!AddTime(query, "since", since) || !AddTime(query, "until", until))
        {
            SearchError = PortalText.Get("AuditBadTime");
            Response.StatusCode = 400;
            return Page();
        }

        var records = await GetAsync<AuditRecordPage>(QueryHelpers.AddQueryString("/api/v1/audit/records", query));
        if (!records.Succeeded)
        {
            SearchError = records.Problem!.Sentence();
            Response.StatusCode = records.Problem.Status;
            return Page();
        }

        Records = records.Value!.Items;
        return Page();
    }

    private static void Add(Dictionary<string, string?> query, string name, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            query[name] = value.Trim();
        }
    }

    private static bool AddTime(Dictionary<string, string?> query, string name, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        // Note: datetime-local carries no zone; the form says these times are UTC, and the API gets them with the offset.
        if (!DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return false;
        }

        query[name] = new DateTimeOffset(at, TimeSpan.Zero).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return true;
    }
}
