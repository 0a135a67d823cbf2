using System.Text.Json;
using OpenSpe.Federation.Analyses;
using OpenSpe.Server.Airlock;
using Library = OpenSpe.Federation.Analyses;

namespace OpenSpe.Server.Federation;

/// <summary>
/// A node-side analysis of the analyses library (<c>openspe.glm</c>, <c>openspe.omop-cohort-count</c>) as a server component:
/// the permit's datasets held here are decrypted into a private scratch directory (one per analysis session, shared by its rounds:
/// <see cref="DecryptedCopies"/>), the library runs on it
/// under this node's <see cref="NodePolicy"/> (the permit's airlock threshold, DataSHIELD's GLM trap defaults), and only its
/// aggregate leaves; a refusal becomes <see cref="FederatedAnalysisRefusedException"/> (code and reasons, no numbers).
/// </summary>
/// <remarks>
/// Note: the scratch directory is 0700 under the data directory (files 0600); a round that fails or is refused removes it at
/// once, because the coordinator stops the analysis then, and an idle, halted or task-less copy is removed by
/// <see cref="DecryptedCopies"/>; its path and the files' contents are never logged.
/// </remarks>
internal sealed class LibraryAnalysis(Library.IFederatedAnalysis analysis, DecryptedCopies copies) : IFederatedAnalysis
{
    /// <inheritdoc />
    public string Component => analysis.Component;

    /// <inheritdoc />
    public async Task<JsonElement> RunAsync(FederatedAnalysisContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var lease = await copies.AcquireAsync(context.Session is null ? null : $"{Component}\n{context.ProjectId}\n{context.Session}", context.ProjectId,
            Fill(context.Data, context.ProjectId, context.Datasets), cancellationToken);
        var failed = true;
        try
        {
            var policy = NodePolicy.Default with { Disclosure = AirlockPolicy.Of(context.Permit.Document.Policies?.Airlock) };
            var outcome = await analysis.RunAsync(context.Parameters.GetRawText(), lease.Directory, policy, cancellationToken);
            if (outcome.Refusal is { } refusal)
            {
                // Note: the refusal carries the library's code and reasons only (rules and column names, never values), so it may
                // travel; the aggregate is not built at all when a trap fired.
                throw new FederatedAnalysisRefusedException(refusal.Code, refusal.Message);
            }

            var result = JsonDocument.Parse(outcome.AggregateJson!).RootElement.Clone();
            failed = false;
            return result;
        }
        finally
        {
            lease.Release(failed);
        }
    }

    /// <summary>Fills a scratch directory with the plaintext of every file of <paramref name="datasets"/> (one flat directory).</summary>
    internal static Func<string, CancellationToken, Task> Fill(IFederatedData data, string projectId, IReadOnlyList<string> datasets) => async (scratch, token) =>
    {
        foreach (var dataset in datasets)
        {
            await data.ReadFilesAsync(projectId, dataset, (name, plaintext, t) => CopyAsync(scratch, name, plaintext, t), token);
        }
    };

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
    public static IReadOnlyList<LibraryAnalysis> BuiltIn(DecryptedCopies copies) =>
        [new(new OpenSpe.Federation.Glm.GlmNodeAnalysis(), copies), new(new OpenSpe.Federation.Omop.CohortCountNodeAnalysis(), copies)];
}

/// <summary>A component declined to answer (a disclosure trap, bad parameters, an unusable dataset): its code and data-free reasons.</summary>
internal sealed class FederatedAnalysisRefusedException(string code, string reasons) : Exception($"{code} {reasons}")
{
    /// <summary>The stable code.</summary>
    public string Code { get; } = code;

    /// <summary>The reasons, one line.</summary>
    public string Reasons { get; } = reasons;
}
