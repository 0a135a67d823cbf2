using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Backups;

/// <summary>
/// Backups and restore drills (OPR-21, OPR-24, OPR-27): the schedule, the last backup and drill, and their history, as
/// <c>/api/v1/operations/backups</c> gives it to operators and auditors.
/// </summary>
internal sealed class BackupsModel : PortalPageModel
{
    /// <summary>The evidence.</summary>
    public BackupEvidenceView? Evidence { get; private set; }

    /// <summary>Shows the evidence.</summary>
    public async Task<IActionResult> OnGetAsync()
    {
        Title = PortalText.Get("NavBackups");
        var answer = await GetAsync<BackupEvidenceView>("/api/v1/operations/backups?limit=100");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Evidence = answer.Value!;
        return Page();
    }

    /// <summary>A backup event's kind in words.</summary>
    public static string Kind(string kind) => kind switch
    {
        "backup" => PortalText.Get("BackupKindBackup"),
        "backup-failed" => PortalText.Get("BackupKindFailed"),
        "backup-pruned" => PortalText.Get("BackupKindPruned"),
        "drill" => PortalText.Get("BackupKindDrill"),
        _ => kind,
    };

    /// <summary>The schedule in words.</summary>
    public static string Schedule(TimeSpan? interval) => interval is { } every
        ? every.TotalHours >= 1 && every.TotalHours % 1 == 0
            ? PortalText.Format("BackupScheduleHours", (int)every.TotalHours)
            : PortalText.Format("BackupScheduleMinutes", (int)Math.Round(every.TotalMinutes))
        : PortalText.Get("BackupNoSchedule");
}
