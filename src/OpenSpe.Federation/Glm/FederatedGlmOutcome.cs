using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Glm;

/// <summary>A federated GLM's end: exactly one of a result or a failure.</summary>
/// <param name="Result">The fitted model, or null.</param>
/// <param name="Failure">Why there is none, or null.</param>
public sealed record FederatedGlmOutcome(GlmResult? Result, CoordinationFailure? Failure);

/// <summary>One finished round of a federated GLM, for showing per-node status while it runs.</summary>
/// <param name="Iteration">The round (1 is at β = 0).</param>
/// <param name="Deviance">The summed deviance at the round's β.</param>
/// <param name="Nodes">Every node that answered, with its counts.</param>
public sealed record GlmRound(int Iteration, double Deviance, IReadOnlyList<GlmNodeSummary> Nodes);
