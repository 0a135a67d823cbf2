using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Compliance;

namespace OpenSpe.Server.Portal.Pages.Compliance;

/// <summary>
/// The auditor's compliance report (OPR-6, OPR-7): the counts of the spec's requirements by status, the live evidence the
/// API gives this person (each item available or why not; the audit chain's last recorded verification with its time, and a
/// form that verifies it now), every requirement with its level, status, what is missing and the
/// tests that carry it, and the same report as HTML and JSON. The report is made by the code <c>spe compliance report</c>
/// uses (OpenSpe.Compliance), with the evidence read through the backchannel instead of the CLI's client, so both hold the
/// same content.
/// </summary>
internal sealed class ComplianceModel : PortalPageModel
{
    private static readonly string Version =
        typeof(ComplianceModel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The report.</summary>
    public ComplianceReport? Report { get; private set; }

    /// <summary>Shows the report.</summary>
    public async Task<IActionResult> OnGetAsync()
    {
        var refusal = await MakeAsync();
        return refusal ?? Page();
    }

    /// <summary>
    /// Verifies the whole audit chain now (the API records the result), then shows the report with it. A form of its own, not
    /// part of every view, because a verification reads every record and checkpoint and takes long on a large log.
    /// </summary>
    public Task<IActionResult> OnPostVerifyAsync()
    {
        Title = PortalText.Get("NavCompliance");
        return VerifyAuditChainAsync("/compliance");
    }

    /// <summary>Downloads the report as one HTML page (the text <c>spe compliance report --format html</c> writes).</summary>
    public async Task<IActionResult> OnGetHtmlAsync()
    {
        var refusal = await MakeAsync();
        return refusal ?? File(new UTF8Encoding(false).GetBytes(ComplianceHtml.Render(Report!)), "text/html; charset=utf-8", FileName("html"));
    }

    /// <summary>Downloads the report as JSON (the text <c>spe compliance report --format json</c> writes).</summary>
    public async Task<IActionResult> OnGetJsonAsync()
    {
        var refusal = await MakeAsync();
        return refusal ?? File(new UTF8Encoding(false).GetBytes(Report!.ToJson()), "application/json; charset=utf-8", FileName("json"));
    }

    private async Task<IActionResult?> MakeAsync()
    {
        Title = PortalText.Get("NavCompliance");
        // Note: the report is the auditor's (OPR-6): the API's auditor policy decides, through a cheap auditor-only read, before
        // any evidence is asked for, so another role gets the API's own 403 and not a report of refusals.
        var gate = await GetAsync<AuditRecordPage>("/api/v1/audit/records?limit=1");
        if (!gate.Succeeded)
        {
            return ShowProblem(gate.Problem!);
        }

        var source = new PortalEvidenceSource(HttpContext.RequestServices.GetRequiredService<PortalBackchannel>(), HttpContext, await AccessTokenAsync());
        // Note: the last verification the log records, not a new one: a view must stay fast on a large log; the page says when it
        // ran and offers a new one (OnPostVerifyAsync).
        var evidence = await EvidenceCollector.CollectAsync(source, verifyAuditNow: false, HttpContext.RequestAborted);
        var now = HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        // Note: the server named in the report is the one the browser reached, as the CLI names the one given to --server.
        Report = ComplianceReport.Create(now, Version, $"{Request.Scheme}://{Request.Host}", RequirementCatalog.Load(), evidence);
        return null;
    }

    private string FileName(string extension) =>
        $"openspe-compliance-{Report!.GeneratedAt.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.{extension}";
}
