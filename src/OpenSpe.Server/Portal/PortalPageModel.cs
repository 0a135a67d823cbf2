using System.Net.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.DependencyInjection;

namespace OpenSpe.Server.Portal;

/// <summary>
/// The base of every portal page: asks the API with the person's token (so a page shows only what the API gives that
/// person), and shows a refusal as the API's own sentence, with its status.
/// </summary>
internal abstract class PortalPageModel : PageModel
{
    /// <summary>The API's refusal this page shows instead of its content, if any.</summary>
    public ApiProblem? Problem { get; private set; }

    /// <summary>The page's title (also the <c>h1</c>).</summary>
    public string Title { get; protected set; } = "OpenSPE";

    /// <summary>Sends the portal's headers (the strict policy) before the handler runs.</summary>
    [NonHandler]
    public override void OnPageHandlerExecuting(PageHandlerExecutingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        PortalHeaders.Apply(context.HttpContext.Response);
        base.OnPageHandlerExecuting(context);
    }

    /// <summary>GETs <paramref name="path"/> from the API as the signed-in person.</summary>
    protected Task<ApiAnswer<T>> GetAsync<T>(string path) => SendAsync<T>(HttpMethod.Get, path, null);

    /// <summary>POSTs <paramref name="body"/> as JSON to <paramref name="path"/> as the signed-in person.</summary>
    protected Task<ApiAnswer<T>> PostAsync<T>(string path, object body) => SendAsync<T>(HttpMethod.Post, path, body);

    /// <summary>POSTs <paramref name="content"/> (a multipart body the backchannel streams) to <paramref name="path"/> as the signed-in person.</summary>
    protected async Task<ApiAnswer<T>> PostContentAsync<T>(string path, HttpContent content)
    {
        var backchannel = HttpContext.RequestServices.GetRequiredService<PortalBackchannel>();
        return await backchannel.SendContentAsync<T>(HttpContext, await AccessTokenAsync(), HttpMethod.Post, path, content);
    }

    /// <summary>Sends <paramref name="method"/> to <paramref name="path"/> without a body, as the signed-in person.</summary>
    protected Task<ApiAnswer<T>> SendEmptyAsync<T>(HttpMethod method, string path) => SendAsync<T>(method, path, null);

    /// <summary>DELETEs <paramref name="path"/> as the signed-in person.</summary>
    protected Task<ApiAnswer<T>> DeleteAsync<T>(string path) => SendAsync<T>(HttpMethod.Delete, path, null);

    /// <summary>The signed-in person's access token.</summary>
    protected async Task<string> AccessTokenAsync() =>
        await HttpContext.GetTokenAsync(PortalSession.Scheme, "access_token") ?? throw new InvalidOperationException("The portal session holds no access token.");

    /// <summary>Shows <paramref name="problem"/> instead of the page's content, with its status.</summary>
    protected IActionResult ShowProblem(ApiProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        Problem = problem;
        Title = PortalText.ForStatus(problem.Status);
        Response.StatusCode = problem.Status;
        return Page();
    }

    /// <summary>
    /// Verifies the whole audit chain now through the API, which records the result (<c>audit.verified</c>), then sends the
    /// browser back to <paramref name="page"/>, which shows that recorded result. The action of the form both /audit and
    /// /compliance carry (<c>_AuditVerifyForm</c>); a view of either verifies nothing, because a verification reads every
    /// record and checkpoint and takes long on a large log.
    /// </summary>
    protected async Task<IActionResult> VerifyAuditChainAsync(string page)
    {
        var verification = await GetAsync<AuditVerificationView>("/api/v1/audit/verify");
        // Note: a refusal (another role, a halt) replaces the page, as the API's answer to this person.
        return verification.Succeeded ? Redirect(page) : ShowProblem(verification.Problem!);
    }

    /// <summary>
    /// The project's own answer first (a non-member's 404 and a halted project's 423 are the API's), then whether the person
    /// holds one of <paramref name="roles"/> in it: null when they do, otherwise the refusal page (403 with the text named
    /// <paramref name="refusedText"/>). For actions the API would refuse with a bare 404 to people who can see the project.
    /// </summary>
    protected async Task<IActionResult?> RequireProjectRoleAsync(string project, string refusedText, params string[] roles)
    {
        var shown = await GetAsync<ProjectView>($"/api/v1/projects/{Segment(project)}");
        if (!shown.Succeeded)
        {
            return ShowProblem(shown.Problem!);
        }

        var mine = await GetAsync<List<ProjectSummary>>("/api/v1/projects");
        if (!mine.Succeeded)
        {
            return ShowProblem(mine.Problem!);
        }

        return mine.Value!.Any(p => p.Id == project && roles.Any(p.MyRoles.Contains))
            ? null
            : ShowProblem(new ApiProblem(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, PortalText.Get(refusedText), new Dictionary<string, IReadOnlyList<string>>()));
    }

    /// <summary>Escapes one path segment of an API route.</summary>
    protected static string Segment(string value) => Uri.EscapeDataString(value);

    private async Task<ApiAnswer<T>> SendAsync<T>(HttpMethod method, string path, object? body)
    {
        var backchannel = HttpContext.RequestServices.GetRequiredService<PortalBackchannel>();
        return await backchannel.SendAsync<T>(HttpContext, await AccessTokenAsync(), method, path, body);
    }
}
