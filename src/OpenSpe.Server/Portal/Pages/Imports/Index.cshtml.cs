using System.Net.Http.Headers;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Airlock;

namespace OpenSpe.Server.Portal.Pages.Imports;

/// <summary>
/// A project's import requests (SPER-3): the list, and a form that asks to bring files in. The chosen files are relayed to
/// <c>POST /api/v1/projects/{project}/imports</c> as multipart, so the API's type check, freeze and review apply unchanged.
/// </summary>
[IgnoreAntiforgeryToken]
internal sealed class ImportsModel : PortalPageModel
{
    /// <summary>The project id.</summary>
    public string Project { get; private set; } = "";

    /// <summary>The requests, newest first.</summary>
    public IReadOnlyList<AirlockRequestView> Imports { get; private set; } = [];

    /// <summary>The justification as typed (kept after a refusal; a browser never keeps chosen files).</summary>
    public string? Reason { get; private set; }

    /// <summary>Field errors by field name (<c>files</c>, <c>reason</c>).</summary>
    public FieldErrors FieldErrors { get; private set; } = FieldErrors.None;

    /// <summary>A refusal that belongs to no one field.</summary>
    public string? FormError { get; private set; }

    /// <summary>The largest import request (all files together), in bytes, for the form's help text.</summary>
    public long MaxRequestBytes { get; private set; }

    /// <summary>The largest file the airlock takes, in bytes.</summary>
    public long MaxFileBytes { get; private set; }

    /// <summary>Shows the requests.</summary>
    public Task<IActionResult> OnGetAsync(string project) => ShowAsync(project);

    /// <summary>Asks to bring the chosen files in with the justification; the API decides, and its refusal is shown at its fields.</summary>
    public async Task<IActionResult> OnPostCreateAsync()
    {
        // Note: read from the route, not bound: model binding reads the form too and, when the body is too large, binds nothing.
        var project = RouteData.Values["project"] as string ?? "";
        // Note: the project's own answer (a non-member's 404, a halt's 423) and the role check come before a byte of the body is
        // read, because only an admitted member's form may be larger than the server's request limit.
        if (await GateAsync(project) is { } refusal)
        {
            return refusal;
        }

        IFormCollection form;
        try
        {
            form = await ImportForms.ReadAsync(HttpContext, ImportRequestLimit());
        }
        catch (Exception e) when (e is Microsoft.AspNetCore.Http.BadHttpRequestException or InvalidDataException)
        {
            // Note: nothing was asked of the API and nothing changed, so the form is shown again with the reason in words, before
            // any anti-forgery check (which cannot read the form either).
            var tooLarge = e is Microsoft.AspNetCore.Http.BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge };
            var error = tooLarge ? PortalText.Format("ImportTooLarge", ImportRequestLimit()) : PortalText.Get("ImportFormUnreadable");
            return await RefusedAsync(project, null, tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, FieldErrors.For("files", error), null);
        }

        // Note: the page opts out of the automatic anti-forgery filter only so that an oversized body is answered in words above;
        // the token is checked here, before anything is asked of the API, and a missing or forged one is the same 400.
        try
        {
            await HttpContext.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(HttpContext);
        }
        catch (AntiforgeryValidationException)
        {
            return BadRequest();
        }

        var reason = form["reason"].ToString();
        var files = form.Files.GetFiles("files");
        using var body = new MultipartFormDataContent { { new StringContent(reason), "reason" } };
        // Note: reading the form (the anti-forgery check needs it) spooled large files to disk; each is streamed from there to
        // the API, never held whole in memory here. Sizes and types are the API's to judge.
        foreach (var file in files)
        {
            var content = new StreamContent(file.OpenReadStream());
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            body.Add(content, "files", file.FileName);
        }

        var answer = await PostContentAsync<AirlockRequestView>($"/api/v1/projects/{Segment(project)}/imports", body);
        if (answer.Succeeded)
        {
            return Redirect($"/projects/{Segment(project)}/imports/{Segment(answer.Value!.Id)}");
        }

        var problem = answer.Problem!;
        if (problem.Status is 400 or 413 or 415 or 422 || problem.Code == ErrorCodes.AirlockDirectionClosed)
        {
            var byField = problem.ByField();
            return await RefusedAsync(project, reason, problem.Status, byField, byField.Count == 0 ? problem.Detail : null);
        }

        return ShowProblem(problem);
    }

    private async Task<IActionResult> RefusedAsync(string project, string? reason, int status, FieldErrors fieldErrors, string? formError)
    {
        Reason = reason;
        FieldErrors = fieldErrors;
        FormError = formError;
        var shown = await ListAsync(project);
        // Note: a refusal of the listing itself (a halt that began meanwhile) keeps its own status.
        Response.StatusCode = Problem?.Status ?? status;
        return shown;
    }

    private long ImportRequestLimit() => HttpContext.RequestServices.GetRequiredService<IOptions<AirlockOptions>>().Value.MaxImportRequestBytes;

    private async Task<IActionResult> ShowAsync(string project) => await GateAsync(project) ?? await ListAsync(project);

    /// <summary>
    /// The project's own answer (non-member 404, halted 423), then the roles the API admits to imports: HDAB officers, operators
    /// and auditors read the project but the API hides its imports from them, so they get a 403 in words rather than a 404.
    /// </summary>
    private Task<IActionResult?> GateAsync(string project)
    {
        Project = project;
        Title = PortalText.Get("ImportsLink");
        return RequireProjectRoleAsync(project, "ImportsNotMember", SpeRoles.Researcher, SpeRoles.DataHolder);
    }

    private async Task<IActionResult> ListAsync(string project)
    {
        var answer = await GetAsync<List<AirlockRequestView>>($"/api/v1/projects/{Segment(project)}/imports");
        if (!answer.Succeeded)
        {
            return ShowProblem(answer.Problem!);
        }

        Imports = answer.Value!;
        MaxRequestBytes = ImportRequestLimit();
        MaxFileBytes = HttpContext.RequestServices.GetRequiredService<IOptions<AirlockOptions>>().Value.MaxFileBytes;
        return Page();
    }
}
