using System.Text.Json;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Rows;
using OpenSpe.Server.Airlock;

namespace OpenSpe.Server.Federation;

/// <summary>
/// The built-in component <c>openspe.row-count</c>: the number of data rows (lines after the header) of each CSV file of the
/// permit's datasets held here, per dataset, with counts from 1 to below the permit's threshold suppressed before they leave the
/// node, and the total made of released counts only. Parameters: <c>{"dataset": "ID"}</c> (optional: one dataset).
/// </summary>
/// <remarks>
/// The counting runs in the project's sandbox like every other component (<see cref="RowCountNodeAnalysis"/> in the runner, one
/// request per dataset over one runner that must end cleanly): the datasets are staged as the project's plaintext, and each answer is
/// read by <see cref="ComponentOutput"/>, which refuses a count below the threshold again outside the sandbox. Only then are the
/// per-dataset answers put together here.
/// </remarks>
internal sealed class RowCountAnalysis(FederatedComponentSandbox sandbox, DecryptedCopies copies) : IFederatedAnalysis
{
    /// <summary>The component name.</summary>
    public const string Name = RowCountNodeAnalysis.ComponentName;

    /// <inheritdoc />
    public string Component => Name;

    /// <inheritdoc />
    public async Task<JsonElement> RunAsync(FederatedAnalysisContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var only = context.Parameters.ValueKind == JsonValueKind.Object && context.Parameters.TryGetProperty("dataset", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        var datasets = only is null ? context.Datasets : context.Datasets.Where(x => x == only).ToList();
        sandbox.EnsureAvailable();
        var policy = NodePolicy.Default with { Disclosure = AirlockPolicy.Of(context.Permit.Document.Policies?.Airlock) with { Threshold = context.Threshold } };
        var requests = datasets.Select(dataset => new RunnerRequest
        {
            Component = Name,
            Parameters = JsonSerializer.SerializeToElement(new { }),
            Datasets = [dataset],
            Policy = policy,
        }).ToList();
        var lines = new List<byte[]>();
        if (requests.Count > 0)
        {
            var lease = await copies.AcquireStagedAsync(null, context.ProjectId, token => sandbox.StageAsync(context.ProjectId, datasets, token), cancellationToken);
            try
            {
                await using var runner = await sandbox.StartSessionAsync(context.ProjectId, lease.Plaintext, cancellationToken);
                foreach (var request in requests)
                {
                    lines.Add(await runner.ExchangeLineAsync(request, Name, cancellationToken));
                    await context.Progress($"dataset {request.Datasets[0]} counted", cancellationToken);
                }

                // Note: no answer is used before the runner has ended without saying more (see FederatedComponentSandbox.RunAsync).
                await runner.EndAsync(Name, cancellationToken);
                var counts = new List<object>();
                long total = 0;
                for (var i = 0; i < requests.Count; i++)
                {
                    var count = runner.Accept(requests[i], lines[i]).Deserialize<RowCountAggregate>(RunnerProtocol.Json)!;
                    counts.Add(new { dataset = requests[i].Datasets[0], rows = count.Rows, suppressed = count.Suppressed });
                    // Note: the total adds released counts only, so it cannot be differenced against a suppressed one.
                    total += count.Rows ?? 0;
                }

                return JsonSerializer.SerializeToElement(new { counts, total, threshold = context.Threshold });
            }
            finally
            {
                lease.Release(failed: true);
            }
        }

        return JsonSerializer.SerializeToElement(new { counts = Array.Empty<object>(), total = 0L, threshold = context.Threshold });
    }
}
