using System.Text.Json;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Glm;
using OpenSpe.Federation.Omop;
using OpenSpe.Server.Airlock;

namespace OpenSpe.Server.Federation;

/// <summary>
/// A node-side analysis of the analyses library (<c>openspe.glm</c>, <c>openspe.omop-cohort-count</c>) run in the project's sandbox
/// (FSPER-4, FCR-5): the permit's datasets held here are staged as the project's plaintext (memory-backed, readable by the project's
/// identity only, one lease per analysis session shared by its rounds: <see cref="DecryptedCopies"/>), the runner
/// (<c>OpenSpe.Federation.Runner</c>) runs in the project's sandbox through <see cref="FederatedComponentSandbox"/> with the request
/// as one line on its standard input, and only its answer, read by <see cref="ComponentOutput"/> (bounded, one outcome of the
/// declared shape, the count threshold checked again), leaves; a refusal becomes <see cref="FederatedAnalysisRefusedException"/>
/// (code and reasons, no numbers). An analysis that iterates (the GLM) keeps one runner for all the rounds of its session, kept and
/// ended with the session's plaintext; otherwise each task starts a runner of its own that must end cleanly after its one answer.
/// </summary>
/// <remarks>
/// Note: no sandbox, no analysis: a node that cannot run sandboxes refuses with <c>SPE7056</c> rather than run the component in
/// its own process, because the server process holds the project keys and the vault, which no component may ever reach.
/// </remarks>
internal sealed class SandboxedAnalysis(string component, bool keepsRunner, FederatedComponentSandbox sandbox, DecryptedCopies copies) : IFederatedAnalysis
{
    /// <inheritdoc />
    public string Component => component;

    /// <inheritdoc />
    public async Task<JsonElement> RunAsync(FederatedAnalysisContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        sandbox.EnsureAvailable();
        var lease = await copies.AcquireStagedAsync(context.Session is null ? null : $"{Component}\n{context.ProjectId}\n{context.Session}", context.ProjectId,
            token => sandbox.StageAsync(context.ProjectId, context.Datasets, token), cancellationToken);
        var failed = true;
        try
        {
            var policy = NodePolicy.Default with { Disclosure = AirlockPolicy.Of(context.Permit.Document.Policies?.Airlock) };
            var request = new RunnerRequest { Component = Component, Parameters = context.Parameters, Datasets = context.Datasets, Policy = policy };
            var runner = keepsRunner ? await lease.RunnerAsync(token => sandbox.StartSessionAsync(context.ProjectId, lease.Plaintext, token), cancellationToken) : null;
            // Note: a kept runner answers this round and waits for the next; any failure of it (a refusal included) releases the
            // copy as failed, and the runner goes with it, so no round after a failed one meets the same process.
            var result = runner is not null
                ? await runner.ExchangeAggregateAsync(request, cancellationToken)
                : await sandbox.RunAsync(context.ProjectId, lease.Plaintext, request, cancellationToken);
            failed = false;
            return result;
        }
        finally
        {
            lease.Release(failed);
        }
    }

    /// <summary>
    /// One server component per analysis of the library run in the sandbox (those of <see cref="FederatedAnalyses.BuiltIn"/> but the
    /// row count, which <see cref="RowCountAnalysis"/> asks per dataset), and whether it keeps its runner across a session's rounds.
    /// </summary>
    public static IReadOnlyList<(string Component, bool KeepsRunner)> BuiltIn { get; } = [(GlmNodeAnalysis.ComponentName, true), (CohortCountNodeAnalysis.ComponentName, false)];
}
