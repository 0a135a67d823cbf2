using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenSpe.Core.Identity;
using OpenSpe.Core.Permits;

namespace OpenSpe.Server.Portal.Pages.Permits;

/// <summary>
/// The HDAB officer issues a permit from a form of fields (EHDSR-1): the page builds the permit document from them, sends it to
/// <c>POST /api/v1/permits</c> as the officer, and shows every error next to the field it belongs to (the API's field paths
/// mapped to the inputs; a malformed line of the datasets or data users named by its number). Nothing is issued unless the
/// API issues it; other roles get the API's refusal.
/// </summary>
internal sealed class NewPermitModel : PortalPageModel
{
    /// <summary>The fields as typed (kept after a refusal).</summary>
    [BindProperty]
    public PermitForm Form { get; set; } = new();

    /// <summary>Errors by input name; <c>form</c> for those that belong to no one input.</summary>
    public FieldErrors FieldErrors { get; private set; } = FieldErrors.None;

    /// <summary>The purposes a permit may name.</summary>
    public static IReadOnlyList<string> Purposes { get; } = [.. PermitDefaults.Purposes.Order(StringComparer.Ordinal)];

    /// <summary>The workspace kinds a permit may allow.</summary>
    public static IReadOnlyList<string> WorkspaceKinds { get; } = [.. PermitDefaults.WorkspaceKinds.Order(StringComparer.Ordinal)];

    /// <summary>Shows the empty form (HDAB officers only).</summary>
    public IActionResult OnGet()
    {
        Title = PortalText.Get("NewPermitHeading");
        return User.IsInRole(SpeRoles.Hdab) ? Page() : ShowProblem(new ApiProblem(403, ErrorCodes.Forbidden, PortalText.Get("NewPermitHdabOnly"), new Dictionary<string, IReadOnlyList<string>>()));
    }

    /// <summary>Builds the document and asks the API to issue it.</summary>
    public async Task<IActionResult> OnPostAsync()
    {
        Title = PortalText.Get("NewPermitHeading");
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var document = Form.ToDocument(errors);
        if (errors.Count > 0)
        {
            return Refused(400, errors);
        }

        var answer = await PostAsync<JsonElement>("/api/v1/permits", document);
        if (answer.Succeeded)
        {
            return Redirect("/permits?issued=" + Uri.EscapeDataString(answer.Value.GetProperty("reference").GetString() ?? ""));
        }

        if (answer.Problem!.Status is not (400 or 409 or 422))
        {
            return ShowProblem(answer.Problem);
        }

        foreach (var (path, messages) in answer.Problem.Errors)
        {
            Add(errors, PermitForm.InputOf(path), messages);
        }

        if (errors.Count == 0)
        {
            Add(errors, "form", [answer.Problem.Detail ?? PortalText.Get("ProblemUnknown")]);
        }

        return Refused(answer.Problem.Status, errors);
    }

    private PageResult Refused(int status, Dictionary<string, List<string>> errors)
    {
        FieldErrors = new FieldErrors(errors.Select(e => KeyValuePair.Create(e.Key, (IReadOnlyList<string>)e.Value)));
        Response.StatusCode = status;
        return Page();
    }

    private static void Add(Dictionary<string, List<string>> errors, string field, IEnumerable<string> messages)
    {
        if (!errors.TryGetValue(field, out var list))
        {
            errors[field] = list = [];
        }

        list.AddRange(messages);
    }
}

/// <summary>The permit form's fields.</summary>
internal sealed class PermitForm
{
    public string? Reference { get; set; }

    public string? Title { get; set; }

    public string? Purpose { get; set; } = "scientific-research";

    public string? LegalBasis { get; set; }

    /// <summary>First day in force (UTC, from 00:00).</summary>
    public string? ValidFrom { get; set; }

    /// <summary>Last day in force (UTC, to 24:00).</summary>
    public string? ValidUntil { get; set; }

    /// <summary>One dataset per line: <c>id | title | holder account [| node]</c>.</summary>
    public string? Datasets { get; set; }

    /// <summary>One data user's account per line.</summary>
    public string? DataUsers { get; set; }

    public List<string> WorkspaceKinds { get; set; } = [];

    public string? Clipboard { get; set; } = "none";

    public string? UploadTypes { get; set; }

    public string? ImportTypes { get; set; }

    public string? ExportTypes { get; set; }

    public int? Threshold { get; set; }

    public int? ReviewersRequired { get; set; }

    public double? Epsilon { get; set; }

    public double? Delta { get; set; }

    /// <summary>The input an API error path belongs to (<c>datasets[2].holder</c> → <c>datasets</c>); <c>form</c> when none.</summary>
    public static string InputOf(string path)
    {
        var p = path.Replace("$.", "", StringComparison.Ordinal);
        string Head(string s) => s.Split('.', '[')[0];
        var head = Head(p);
        if (head.Equals("policies", StringComparison.OrdinalIgnoreCase) && p.Length > "policies.".Length)
        {
            var rest = p["policies.".Length..];
            return Head(rest).ToUpperInvariant() switch
            {
                "WORKSPACEKINDS" => "workspaceKinds",
                "CLIPBOARD" => "clipboard",
                "FILETYPES" => rest.Contains("import", StringComparison.OrdinalIgnoreCase) ? "importTypes" : rest.Contains("export", StringComparison.OrdinalIgnoreCase) ? "exportTypes" : "uploadTypes",
                "AIRLOCK" => rest.Contains("reviewers", StringComparison.OrdinalIgnoreCase) ? "reviewersRequired" : "threshold",
                "PRIVACYBUDGET" => rest.Contains("delta", StringComparison.OrdinalIgnoreCase) ? "delta" : "epsilon",
                _ => "form",
            };
        }

        string[] inputs = ["reference", "title", "purpose", "legalBasis", "validFrom", "validUntil", "datasets", "dataUsers"];
        return inputs.FirstOrDefault(i => i.Equals(head, StringComparison.OrdinalIgnoreCase)) ?? "form";
    }

    /// <summary>The permit document, adding to <paramref name="errors"/> what cannot be read from the fields.</summary>
    public Dictionary<string, object?> ToDocument(Dictionary<string, List<string>> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        void Error(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list))
            {
                errors[field] = list = [];
            }

            list.Add(message);
        }

        DateTimeOffset? Day(string field, string? text, bool end)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                Error(field, PortalText.Get("PermitFormDateMissing"));
                return null;
            }

            if (!DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                Error(field, PortalText.Get("PermitFormDateInvalid"));
                return null;
            }

            var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return end ? start.AddDays(1) : start;
        }

        var datasets = new List<object>();
        var number = 0;
        foreach (var line in Lines(Datasets))
        {
            number++;
            var parts = line.Split('|', StringSplitOptions.TrimEntries);
            if (parts.Length is < 3 or > 4 || parts.Any(p => p.Length == 0))
            {
                Error("datasets", PortalText.Format("PermitFormDatasetLine", number));
                continue;
            }

            datasets.Add(parts.Length == 4 ? new { id = parts[0], title = parts[1], holder = parts[2], node = parts[3] } : new { id = parts[0], title = parts[1], holder = parts[2] });
        }

        var users = Lines(DataUsers).Select(u => new { account = u }).ToList();
        var from = Day("validFrom", ValidFrom, end: false);
        var until = Day("validUntil", ValidUntil, end: true);
        return new Dictionary<string, object?>
        {
            ["reference"] = Reference?.Trim() ?? "",
            ["title"] = Title?.Trim() ?? "",
            ["purpose"] = Purpose ?? "",
            ["legalBasis"] = LegalBasis?.Trim() ?? "",
            ["validFrom"] = from,
            ["validUntil"] = until,
            ["datasets"] = datasets,
            ["dataUsers"] = users,
            ["policies"] = new Dictionary<string, object?>
            {
                ["workspaceKinds"] = WorkspaceKinds.Count == 0 ? null : WorkspaceKinds,
                ["clipboard"] = string.IsNullOrWhiteSpace(Clipboard) ? null : Clipboard,
                ["fileTypes"] = new { upload = Types(UploadTypes), import = Types(ImportTypes), export = Types(ExportTypes) },
                ["airlock"] = Threshold is null && ReviewersRequired is null ? null
                    : new Dictionary<string, object?> { ["threshold"] = Threshold ?? new PermitAirlockRules().Threshold, ["reviewersRequired"] = ReviewersRequired ?? new PermitAirlockRules().ReviewersRequired },
                ["privacyBudget"] = Epsilon is null && Delta is null ? null
                    : new { epsilon = Epsilon ?? new PermitPrivacyBudget().Epsilon, delta = Delta ?? new PermitPrivacyBudget().Delta },
            },
        };
    }

    private static List<string> Lines(string? text) =>
        [.. (text ?? "").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    private static List<string> Types(string? text) =>
        [.. (text ?? "").Split([',', ' ', '\n'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(t => t.TrimStart('.').ToLowerInvariant())];
}
