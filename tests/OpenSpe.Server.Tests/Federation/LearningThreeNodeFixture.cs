using OpenSpe.Server.Federation.Learning;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>The three nodes with federated learning approved in the permit and allowed by every node's operator (budget: the permit default, ε 3, δ 10⁻⁶).</summary>
public sealed class LearningThreeNodeFixture : ThreeNodeFixture
{
    protected override IReadOnlyList<string> ExtraComponents => [FedAvgComponent.ComponentName];
}
