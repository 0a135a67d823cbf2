namespace OpenSpe.Server.Identity;

/// <summary>
/// Told after an account changed in a way that may end its access (disabled, a role revoked, its second factor reset), so
/// that what runs for the person (jobs, desktops) is judged again at once; other modules implement it.
/// </summary>
internal interface IAccountChangeHook
{
    /// <summary>Called after the change is stored.</summary>
    Task OnAccountChangedAsync(string accountId, CancellationToken cancellationToken);
}
