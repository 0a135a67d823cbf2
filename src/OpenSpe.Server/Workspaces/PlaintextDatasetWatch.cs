using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Workspaces;

/// <summary>
/// After a permit changed, removes at once the staged plaintext of every dataset its current version no longer names, so that
/// a dataset the HDAB withdrew is gone from running jobs and terminals and is never staged again for the project.
/// </summary>
/// <remarks>
/// Note: this runs after the amendment is stored and takes the staging's project lock, under which every acquire reads the
/// permit's list, because either order of an amendment and a concurrent acquire must end with the withdrawn dataset gone.
/// </remarks>
internal sealed class PlaintextDatasetWatch(IServiceScopeFactory scopes, IPlaintextStaging staging) : IPermitChangeHook
{
    /// <inheritdoc />
    public async Task OnPermitChangedAsync(string projectId, CancellationToken cancellationToken)
    {
        // Note: no early "is anything staged" test outside the staging's lock, because a first fill under way would pass it
        // unseen and then stage the list it read before the change.
        await using var scope = scopes.CreateAsyncScope();
        var permitted = await scope.ServiceProvider.GetRequiredService<DatasetStager>().PermittedAsync(projectId, CancellationToken.None);
        await staging.RetainAsync(projectId, permitted, CancellationToken.None);
    }
}
