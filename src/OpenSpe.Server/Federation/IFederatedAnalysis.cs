using System.Text.Json;

namespace OpenSpe.Server.Federation;

/// <summary>
/// An analysis a node runs on its local data for a federated task (FCR-3, FCR-5), registered by component name: the name a
/// permit's <c>approvedComponents</c> and the node's <c>Federation:AllowedComponents</c> must both list. Register one with
/// <c>services.AddSingleton&lt;IFederatedAnalysis, ...&gt;()</c>; the federated GLM and OMOP counts plug in here.
/// </summary>
/// <remarks>
/// An analysis returns only its declared aggregate output, after its own disclosure control (the permit's threshold is in the
/// context): what it returns leaves the node as it is.
/// </remarks>
internal interface IFederatedAnalysis
{
    /// <summary>The component name.</summary>
    string Component { get; }

    /// <summary>Runs on the datasets of the task's permit held here; returns the aggregate to send back (a JSON value).</summary>
    Task<JsonElement> RunAsync(FederatedAnalysisContext context, CancellationToken cancellationToken);
}

/// <summary>What an analysis gets: the verified permit, the local project and datasets, its parameters, and a way to report progress.</summary>
/// <param name="Permit">The permit, verified at this node.</param>
/// <param name="ProjectId">The local project of that permit.</param>
/// <param name="Datasets">The permit's datasets this node holds.</param>
/// <param name="Parameters">The task's parameters (a JSON object).</param>
/// <param name="Threshold">The permit's small-cell threshold (airlock <c>threshold</c>): counts below it never leave the node.</param>
/// <param name="Data">The datasets' plaintext, read from the vault.</param>
/// <param name="Progress">Reports progress to the watcher; waits when the watcher is slow (bounded memory).</param>
/// <param name="Session">
/// The analysis session this task is one round of (the calling peer's name with the coordinator's session id), or null: rounds of
/// one session may share one decrypted copy of the data (<see cref="DecryptedCopies"/>).
/// </param>
internal sealed record FederatedAnalysisContext(
    FederatedPermit Permit,
    string ProjectId,
    IReadOnlyList<string> Datasets,
    JsonElement Parameters,
    int Threshold,
    IFederatedData Data,
    Func<string, CancellationToken, ValueTask> Progress,
    string? Session = null);

/// <summary>A project's dataset files as plaintext streams, decrypted from the vault one at a time.</summary>
internal interface IFederatedData
{
    /// <summary>Calls <paramref name="read"/> with each file of <paramref name="datasetId"/> (name, plaintext), in name order.</summary>
    Task ReadFilesAsync(string projectId, string datasetId, Func<string, Stream, CancellationToken, Task> read, CancellationToken cancellationToken);
}

/// <summary>A component declined to answer (a disclosure trap, bad parameters, an unusable dataset): its code and data-free reasons.</summary>
internal sealed class FederatedAnalysisRefusedException(string code, string reasons) : Exception($"{code} {reasons}")
{
    /// <summary>The stable code.</summary>
    public string Code { get; } = code;

    /// <summary>The reasons, one line.</summary>
    public string Reasons { get; } = reasons;
}
