using System.Text.Json;
using Microsoft.Extensions.Logging;
using OpenSpe.Federation.Analyses;
using OpenSpe.Server.Airlock;
using OpenSpe.Server.Hosting;
using Library = OpenSpe.Federation.Analyses;

namespace OpenSpe.Server.Federation;

/// <summary>
/// A node-side analysis of the analyses library (<c>openspe.glm</c>, <c>openspe.omop-cohort-count</c>) as a server component:
/// the permit's datasets held here are decrypted into a private scratch directory for this one task, the library runs on it
/// under this node's <see cref="NodePolicy"/> (the permit's airlock threshold, DataSHIELD's GLM trap defaults), and only its
/// aggregate leaves; a refusal becomes <see cref="FederatedAnalysisRefusedException"/> (code and reasons, no numbers).
/// </summary>
/// <remarks>
/// Note: the scratch directory is 0700 under the data directory (files 0600) and is deleted in <c>finally</c>, whatever the
/// outcome, because it holds plaintext rows; its path and the files' contents are never logged.
/// </remarks>
internal sealed class LibraryAnalysis(Library.IFederatedAnalysis analysis, DataDirectory data, ILogger<LibraryAnalysis> logger) : IFederatedAnalysis
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <inheritdoc />
    public string Component => analysis.Component;

    /// <inheritdoc />
    public async Task<JsonElement> RunAsync(FederatedAnalysisContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var root = data.File("federation-work");
        Directory.CreateDirectory(root, Private);
        var scratch = Path.Combine(root, "t-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch, Private);
        try
        {
            foreach (var dataset in context.Datasets)
            {
                await context.Data.ReadFilesAsync(context.ProjectId, dataset, (name, plaintext, token) => CopyAsync(scratch, name, plaintext, token), cancellationToken);
            }

            var policy = NodePolicy.Default with { Disclosure = AirlockPolicy.Of(context.Permit.Document.Policies?.Airlock) };
            var outcome = await analysis.RunAsync(context.Parameters.GetRawText(), scratch, policy, cancellationToken);
            if (outcome.Refusal is { } refusal)
            {
                // Note: the refusal carries the library's code and reasons only (rules and column names, never values), so it may
                // travel; the aggregate is not built at all when a trap fired.
                throw new FederatedAnalysisRefusedException(refusal.Code, refusal.Message);
            }

            return JsonDocument.Parse(outcome.AggregateJson!).RootElement.Clone();
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException ex)
            {
                FederationLog.ScratchNotDeleted(logger, ex, Component);
            }
        }
    }

    private static async Task CopyAsync(string scratch, string name, Stream plaintext, CancellationToken cancellationToken)
    {
        // Note: a stored file name is one path segment already; anything else (or a second file of the same name from another
        // dataset) is refused rather than written outside the scratch directory or over another file.
        if (Path.GetFileName(name) != name || name is "" or "." or "..")
        {
            throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedAnalysisDatasetUnusable, "a dataset file name is not a plain file name");
        }

        var target = Path.Combine(scratch, name);
        if (File.Exists(target))
        {
            throw new FederatedAnalysisRefusedException(ErrorCodes.FederatedAnalysisDatasetUnusable, $"two of the permit's datasets held here have a file named '{name}'");
        }

        await using var file = new FileStream(target, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        await plaintext.CopyToAsync(file, cancellationToken);
    }

    /// <summary>One server component per analysis of the library (those of <see cref="FederatedAnalyses.BuiltIn"/>).</summary>
    public static IReadOnlyList<LibraryAnalysis> BuiltIn(DataDirectory data, ILogger<LibraryAnalysis> logger) =>
        [new(new OpenSpe.Federation.Glm.GlmNodeAnalysis(), data, logger), new(new OpenSpe.Federation.Omop.CohortCountNodeAnalysis(), data, logger)];
}

/// <summary>A component declined to answer (a disclosure trap, bad parameters, an unusable dataset): its code and data-free reasons.</summary>
internal sealed class FederatedAnalysisRefusedException(string code, string reasons) : Exception($"{code} {reasons}")
{
    /// <summary>The stable code.</summary>
    public string Code { get; } = code;

    /// <summary>The reasons, one line.</summary>
    public string Reasons { get; } = reasons;
}
