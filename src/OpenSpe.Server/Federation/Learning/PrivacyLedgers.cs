using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Permits;
using OpenSpe.Federation.Learning;

namespace OpenSpe.Server.Federation.Learning;

/// <summary>
/// This node's two privacy ledgers (FCR-9), both in its database: <see cref="Node"/> charges the loss on the rows held here for
/// every round this node released, whoever coordinated; <see cref="Coordinator"/> charges the analyses this node coordinated for its
/// own users before any node is asked. Both are keyed by the permit's reference and the person, capped by the permit's
/// <c>privacyBudget</c>.
/// </summary>
internal sealed class PrivacyLedgers(IServiceScopeFactory scopes, TimeProvider time, ILoggerFactory loggers)
{
    /// <summary>Loss on this node's rows.</summary>
    public PrivacyLedger Node { get; } = new(new DatabasePrivacyLedgerStore(scopes, PrivacyLedgerBooks.Node, time), loggers.CreateLogger<PrivacyLedger>());

    /// <summary>Loss of the analyses this node coordinated.</summary>
    public PrivacyLedger Coordinator { get; } = new(new DatabasePrivacyLedgerStore(scopes, PrivacyLedgerBooks.Coordinator, time), loggers.CreateLogger<PrivacyLedger>());

    /// <summary>The permit's budget (its <c>policies.privacyBudget</c>, or the permit default where it is silent).</summary>
    public static PrivacyBudget BudgetOf(PermitDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var budget = document.Policies?.PrivacyBudget ?? new PermitPrivacyBudget();
        return new PrivacyBudget(budget.Epsilon, budget.Delta);
    }

    /// <summary>What the permit spent in both books, for everyone and for <paramref name="person"/> when given.</summary>
    public async Task<PrivacySpendReport> ReportAsync(PermitDocument document, string? person, CancellationToken cancellationToken)
    {
        var budget = BudgetOf(document);
        var node = await Node.SpentAsync(document.Reference, null, budget, cancellationToken);
        var coordinator = await Coordinator.SpentAsync(document.Reference, null, budget, cancellationToken);
        PrivacySpendView? mine = person is null ? null : await Coordinator.SpentAsync(document.Reference, person, budget, cancellationToken);
        return new PrivacySpendReport(document.Reference, budget, node, coordinator, mine);
    }
}

/// <summary>A permit's spend in both books (and one person's share of the coordinated analyses).</summary>
internal sealed record PrivacySpendReport(string Permit, PrivacyBudget Budget, PrivacySpendView Node, PrivacySpendView Coordinator, PrivacySpendView? Person);
