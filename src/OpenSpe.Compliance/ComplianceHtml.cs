using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace OpenSpe.Compliance;

/// <summary>
/// The report as one HTML page for an auditor: no script, no external resource, every text escaped, and well-formed as XML
/// too (every element closed), so it can be checked and archived as it is.
/// </summary>
public static class ComplianceHtml
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes the page.</summary>
    /// <param name="report">The report.</param>
    public static string Render(ComplianceReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\" /><title>OpenSPE compliance report</title>")
            .Append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px;vertical-align:top;text-align:left}")
            .Append(".done{background:#e6f4e6}.partial{background:#fff6d6}.planned,.not-traced{background:#f8e0e0}pre{white-space:pre-wrap;max-height:30em;overflow:auto}</style></head><body>\n");
        html.Append("<h1>OpenSPE compliance report</h1>\n<p>Generated ").Append(E(report.GeneratedAt.ToString("u", CultureInfo.InvariantCulture)))
            .Append(" by spe ").Append(E(report.SpeVersion)).Append(". Requirements: ").Append(E(report.Source)).Append(".</p>\n");
        var s = report.Summary;
        html.Append(CultureInfo.InvariantCulture, $"<p>{s.Total} requirements: {s.Done} done, {s.Partial} partial, {s.Planned} planned, {s.NotTraced} not traced.</p>\n");
        html.Append("<h2>Live evidence</h2>\n");
        if (report.Server is null)
        {
            html.Append("<p>Not collected: the report was made without <code>--server</code>.</p>\n");
        }
        else
        {
            html.Append("<p>From ").Append(E(report.Server)).Append(".</p>\n<table><tr><th>evidence</th><th>available</th><th>summary</th></tr>\n");
            foreach (var item in report.Evidence)
            {
                html.Append("<tr><td>").Append(E(item.Name)).Append("</td><td>").Append(item.Available ? "yes" : "not available").Append("</td><td>").Append(E(item.Summary));
                if (item.Data is { } data)
                {
                    html.Append("<details><summary>details</summary><pre>").Append(E(JsonSerializer.Serialize(data, Indented))).Append("</pre></details>");
                }

                html.Append("</td></tr>\n");
            }

            html.Append("</table>\n");
        }

        html.Append("<h2>Requirements</h2>\n<table><tr><th>ID</th><th>level</th><th>status</th><th>requirement</th><th>tests</th></tr>\n");
        foreach (var r in report.Requirements)
        {
            html.Append("<tr class=\"").Append(r.Status.Replace(' ', '-')).Append("\"><td>").Append(E(r.Id)).Append("</td><td>").Append(E(r.Level)).Append("</td><td>").Append(E(r.Status));
            if (r.StatusDetail.Length > 0)
            {
                html.Append(": ").Append(E(r.StatusDetail));
            }

            html.Append("</td><td>").Append(E(r.Text)).Append("</td><td>");
            html.Append(r.Tests.Count == 0 ? "none" : string.Join("<br />", r.Tests.Select(E)));
            html.Append("</td></tr>\n");
        }

        html.Append("</table>\n</body></html>\n");
        return html.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
