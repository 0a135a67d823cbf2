namespace OpenSpe.Server.Federation;

/// <summary>
/// The scratch copy the in-process learning component (<see cref="Learning.FedAvgComponent"/>) reads: the plaintext of the permit's
/// datasets held here in one flat 0700 directory under the data directory (files 0600), held by <see cref="DecryptedCopies"/>. The
/// library's analyses do not use it: they run in the project's sandbox on its staged plaintext (<see cref="SandboxedAnalysis"/>).
/// </summary>
internal static class DatasetScratch
{
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
}

/// <summary>A component declined to answer (a disclosure trap, bad parameters, an unusable dataset): its code and data-free reasons.</summary>
internal sealed class FederatedAnalysisRefusedException(string code, string reasons) : Exception($"{code} {reasons}")
{
    /// <summary>The stable code.</summary>
    public string Code { get; } = code;

    /// <summary>The reasons, one line.</summary>
    public string Reasons { get; } = reasons;
}
