using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Access.Handlers;

/// <summary>
/// For a dataset-scoped action: the dataset must be one the permit names, and a caller acting only as a data holder must be
/// the holder the permit names for it — compared by account id, never by account name.
/// </summary>
public sealed class DatasetHolderHandler(IProjectAccessSource source) : IAccessHandler
{
    /// <inheritdoc />
    public async ValueTask<AccessRefusal?> HandleAsync(AccessContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Request.DatasetId is not { } datasetId)
        {
            return null;
        }

        var document = await context.DocumentAsync(cancellationToken);
        var dataset = document.Datasets.FirstOrDefault(d => d.Id == datasetId);
        if (dataset is null)
        {
            return AccessRefusal.Forbidden("dataset-not-in-permit", "The permit names no such dataset.");
        }

        if (!ActsOnlyAsHolder(context))
        {
            return null;
        }

        // Note: compared by account id, not name, because the id is what membership is keyed on; a name can be spelt another way.
        var held = await DatasetHolders.HeldByAsync(source, document, context.Request.Principal.AccountId, cancellationToken);
        return held.Contains(datasetId)
            ? null
            : AccessRefusal.Forbidden("not-holder-of-dataset", "The permit names another data holder for this dataset.");
    }

    /// <summary>True when only the data-holder role admits the caller to the action: a holder acts on the datasets they hold and no other.</summary>
    private static bool ActsOnlyAsHolder(AccessContext context)
    {
        var admitting = context.Action.MemberRoles.Where(context.MemberRoles.Contains).ToList();
        return admitting.Count > 0 && admitting.All(r => r == PermitRoles.DataHolder);
    }
}
