using System.Text.Json;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The built-in component <c>openspe.row-count</c>: the number of data rows (lines after the header) of each CSV file of the
/// permit's datasets held here, per dataset, with counts from 1 to below the permit's threshold suppressed before they leave the
/// node, and the total made of released counts only. Parameters: <c>{"dataset": "ID"}</c> (optional: one dataset).
/// </summary>
/// <remarks>It runs in the server process on a decrypting stream (nothing is written); components that run code of their own belong in the sandbox.</remarks>
internal sealed class RowCountAnalysis : IFederatedAnalysis
{
    /// <summary>The component name.</summary>
    public const string Name = "openspe.row-count";

    /// <inheritdoc />
    public string Component => Name;

    /// <inheritdoc />
    public async Task<JsonElement> RunAsync(FederatedAnalysisContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var only = context.Parameters.ValueKind == JsonValueKind.Object && context.Parameters.TryGetProperty("dataset", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        var datasets = only is null ? context.Datasets : context.Datasets.Where(x => x == only).ToList();
        var counts = new List<object>();
        long total = 0;
        foreach (var dataset in datasets)
        {
            long rows = 0;
            await context.Data.ReadFilesAsync(context.ProjectId, dataset, async (name, stream, token) =>
            {
                if (name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
                {
                    rows += await CountDataRowsAsync(stream, token);
                }
            }, cancellationToken);
            await context.Progress($"dataset {dataset} counted", cancellationToken);
            // Note: a count from 1 to below the threshold is withheld here, at the node, because it could single out people;
            // zero is released (it discloses nobody) and the total adds released counts only, so it cannot be differenced.
            var suppressed = rows > 0 && rows < context.Threshold;
            counts.Add(suppressed ? new { dataset, rows = (long?)null, suppressed } : new { dataset, rows = (long?)rows, suppressed });
            total += suppressed ? 0 : rows;
        }

        return JsonSerializer.SerializeToElement(new { counts, total, threshold = context.Threshold });
    }

    private static async Task<long> CountDataRowsAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        long lines = 0;
        var last = (byte)'\n';
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
            last = buffer[read - 1];
        }

        if (last != (byte)'\n')
        {
            lines++;
        }

        return Math.Max(0, lines - 1);
    }
}
