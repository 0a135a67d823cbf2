using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace OpenSpe.Server.Portal.Pages.Audit;

/// <summary>The auditor's page: the audit chain's verification (with witnessed checkpoints) and a search by actor, project, action and time.</summary>
internal sealed class AuditModel : PortalPageModel
{
    /// <summary>The chain's verification.</summary>
    public AuditVerificationView? Verification { get; private set; }

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

    /// <summary>Verifies the chain and searches.</summary>
    public async Task<IActionResult> OnGetAsync(string? actor, string? project, string? action, string? since, string? until)
    {
        Title = PortalText.Get("NavAudit");
        (Actor, ProjectFilter, ActionFilter, Since, Until) = (actor, project, action, since, until);
        var verification = await GetAsync<AuditVerificationView>("/api/v1/audit/verify");
        if (!verification.Succeeded)
        {
            return ShowProblem(verification.Problem!);
        }

        Verification = verification.Value;
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
