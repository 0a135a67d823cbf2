using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Portal.Pages.Admin;

/// <summary>
/// The admin's applications (client credentials): the registered ones and who registered them, a new one (its secret shown
/// once, never stored in the clear), and deleting one (its tokens stop working within a second). An application acts for
/// nobody and reaches a project only when the HDAB names it in a permit; the API's rules hold, as for every page.
/// </summary>
internal sealed class ApplicationsModel : PortalPageModel
{
    /// <summary>The registered applications.</summary>
    public IReadOnlyList<ClientView> Applications { get; private set; } = [];

    /// <summary>The application just registered, with its secret (shown once).</summary>
    public CreatedClientView? Created { get; private set; }

    /// <summary>What the last change did.</summary>
    public string? Notice { get; private set; }

    /// <summary>Why the last change was refused.</summary>
    public string? FormError { get; private set; }

    /// <summary>Shows the applications.</summary>
    public Task<IActionResult> OnGetAsync() => ShowAsync();

    /// <summary>Registers an application.</summary>
    public async Task<IActionResult> OnPostCreateAsync(string? clientId, string? displayName)
    {
        var answer = await PostAsync<CreatedClientView>("/api/v1/admin/clients",
            new CreateClientRequest((clientId ?? "").Trim(), string.IsNullOrWhiteSpace(displayName) ? null : displayName.Trim()));
        if (!answer.Succeeded)
        {
            return await RefusedAsync(answer.Problem!);
        }

        Created = answer.Value;
        return await ShowAsync();
    }

    /// <summary>Deletes an application.</summary>
    public async Task<IActionResult> OnPostDeleteAsync(string? clientId)
    {
        if (string.IsNullOrWhiteSpace(clientId))
        {
            return await RefusedAsync(new ApiProblem(400, null, PortalText.Get("AdminUnknownChange"), new Dictionary<string, IReadOnlyList<string>>()));
        }

        var answer = await DeleteAsync<object>($"/api/v1/admin/clients/{Segment(clientId)}");
        if (!answer.Succeeded)
        {
            return await RefusedAsync(answer.Problem!);
        }

        Notice = PortalText.Format("AdminApplicationDeleted", clientId);
        return await ShowAsync();
    }

    private async Task<IActionResult> RefusedAsync(ApiProblem problem)
    {
        // Note: as on the accounts page, a refused change is shown above the list when the list is the person's to see.
        if (problem.Status is 401 or >= 500)
        {
            return ShowProblem(problem);
        }

        var shown = await ShowAsync();
        if (Problem is null)
        {
            FormError = problem.Sentence();
            Response.StatusCode = problem.Status;
        }

        return shown;
    }

    private async Task<IActionResult> ShowAsync()
    {
        Title = PortalText.Get("NavApplications");
        var answer = await GetAsync<List<ClientView>>("/api/v1/admin/clients");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Applications = answer.Value!;
        return Page();
    }
}
