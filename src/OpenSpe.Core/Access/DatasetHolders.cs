using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Access;

/// <summary>Which of a permit's datasets an account holds — by account id, the one identity key of access decisions.</summary>
public static class DatasetHolders
{
    /// <summary>The ids of the datasets the permit names <paramref name="accountId"/> the holder of (empty for null).</summary>
    public static async Task<IReadOnlySet<string>> HeldByAsync(IProjectAccessSource source, PermitDocument document, string? accountId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(document);
        var held = new HashSet<string>(StringComparer.Ordinal);
        if (accountId is null)
        {
            return held;
        }

        var holders = await source.AccountIdsAsync(document.Datasets.Select(d => d.Holder).Distinct(StringComparer.Ordinal).ToList(), cancellationToken);
        foreach (var dataset in document.Datasets)
        {
            // Note: a dataset another node holds has no holder here, even if an account here has the same name.
            if (dataset.Node is null && holders.TryGetValue(dataset.Holder, out var holderId) && string.Equals(holderId, accountId, StringComparison.Ordinal))
            {
                held.Add(dataset.Id);
            }
        }

        return held;
    }
}
