using OpenSpe.Contracts;

namespace OpenSpe.Federation.Learning;

/// <summary>Stable error codes of federated learning (defined with the others in <see cref="ErrorCodes"/>; docs/errors.md).</summary>
public static class FederatedLearningCodes
{
    /// <summary>The permit's privacy budget would be exceeded by the round: refused before any noise was drawn.</summary>
    public const string BudgetExhausted = ErrorCodes.FederatedLearningBudgetExhausted;
}
