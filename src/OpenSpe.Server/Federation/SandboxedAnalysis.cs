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
/// (<c>OpenSpe.Federation.Runner</c>) starts in the project's sandbox through <see cref="IWorkspaceRuntime"/> with the request on its
/// standard input, and only its answer, read by <see cref="ComponentOutput"/> (bounded, one outcome of the declared shape, the
/// count threshold checked again), leaves; a refusal becomes <see cref="FederatedAnalysisRefusedException"/> (code and reasons, no numbers).
/// </summary>
/// <remarks>
/// Note: no sandbox, no analysis: a node that cannot run sandboxes refuses with <c>SPE7056</c> rather than run the component in
/// its own process, because the server process holds the project keys and the vault, which no component may ever reach.
/// </remarks>
internal sealed class SandboxedAnalysis(string component, FederatedComponentSandbox sandbox, DecryptedCopies copies) : IFederatedAnalysis
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
            var result = await sandbox.RunAsync(context.ProjectId, lease.Plaintext, request, cancellationToken);
            failed = false;
            return result;
        }
        finally
        {
            lease.Release(failed);
        }
    }

    /// <summary>One server component per analysis of the library run in the sandbox (those of <see cref="FederatedAnalyses.BuiltIn"/>).</summary>
    public static IReadOnlyList<string> BuiltIn { get; } = [GlmNodeAnalysis.ComponentName, CohortCountNodeAnalysis.ComponentName];
}
