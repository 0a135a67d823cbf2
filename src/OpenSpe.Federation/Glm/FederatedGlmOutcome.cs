using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Glm;

/// <summary>A federated GLM's end: exactly one of a result or a failure.</summary>
/// <param name="Result">The fitted model, or null.</param>
/// <param name="Failure">Why there is none, or null.</param>
public sealed record FederatedGlmOutcome(GlmResult? Result, CoordinationFailure? Failure);
