using System.Net.Http;
using Microsoft.AspNetCore.Mvc;
using OpenSpe.Core.Identity;

namespace OpenSpe.Server.Portal.Pages.Imports;

/// <summary>One import request: its state, justification, files with their hashes and type check, the checkers' decisions, and where an approved file lands.</summary>
internal sealed class ImportModel : PortalPageModel
{
    /// <summary>The project id.</summary>
    public string Project { get; private set; } = "";

    /// <summary>The request.</summary>
    public AirlockRequestView? Import { get; private set; }

    /// <summary>A refusal of "place again" that is shown above the request (the API's sentence).</summary>
    public string? FormError { get; private set; }

    /// <summary>Shows the request.</summary>
    public async Task<IActionResult> OnGetAsync(string project, string request) => await GateAsync(project) ?? await ShowAsync(project, request);

    /// <summary>
    /// Places again the approved files whose placement failed (<c>POST …/imports/{request}/placement</c>); the request is shown
    /// with each file's new placement, or the API's refusal above it.
    /// </summary>
    public async Task<IActionResult> OnPostPlaceAsync(string project, string request)
    {
        if (await GateAsync(project) is { } refusal)
        {
            return refusal;
        }

        var answer = await SendEmptyAsync<AirlockRequestView>(HttpMethod.Post, $"/api/v1/projects/{Segment(project)}/imports/{Segment(request)}/placement");
        if (answer.Succeeded)
        {
            return Redirect($"/projects/{Segment(project)}/imports/{Segment(request)}");
        }

        if (answer.Problem!.Status is not (409 or 503))
        {
            return ShowProblem(answer.Problem);
        }

        FormError = answer.Problem.Detail;
        var shown = await ShowAsync(project, request);
        Response.StatusCode = Problem?.Status ?? answer.Problem.Status;
        return shown;
    }

    private async Task<IActionResult?> GateAsync(string project)
    {
        Project = project;
        Title = PortalText.Get("ImportsLink");
        return await RequireProjectRoleAsync(project, "ImportsNotMember", SpeRoles.Researcher, SpeRoles.DataHolder);
    }

    private async Task<IActionResult> ShowAsync(string project, string request)
    {
        var answer = await GetAsync<AirlockRequestView>($"/api/v1/projects/{Segment(project)}/imports/{Segment(request)}");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Import = answer.Value!;
        Title = PortalText.Format("ImportTitle", Import.Id);
        return Page();
    }

    /// <summary>Where an approved file of <paramref name="request"/> is placed in the project's workspaces (<c>ImportEndpoints</c>, <c>AirlockReviews</c>).</summary>
    public static string PlacedAt(AirlockRequestView request, AirlockFileView file) => $"/project/imports/{request.Id}/{file.Name}";
}
