using System.Text.Json;

namespace OpenSpe.Disclosure;

/// <summary>
/// The report's stable JSON shape: <c>{"status": ..., "files": [{"file": ..., "status": ..., "findings": [{"rule": ...,
/// "reason": ..., "positions": [...]}]}]}</c>, statuses "pass", "fail" or "review".
/// </summary>
public static class DisclosureReportJson
{
    /// <summary>Writes <paramref name="report"/> as indented JSON.</summary>
    public static string Write(DisclosureReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToName());
            json.WriteStartArray("files");
            foreach (var file in report.Files)
            {
                json.WriteStartObject();
                json.WriteString("file", file.File);
                json.WriteString("status", file.Status.ToName());
                json.WriteStartArray("findings");
                foreach (var finding in file.Findings)
                {
                    json.WriteStartObject();
                    json.WriteString("rule", finding.Rule);
                    json.WriteString("reason", finding.Reason);
                    json.WriteStartArray("positions");
                    foreach (var position in finding.Positions)
                    {
                        json.WriteStringValue(position);
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
