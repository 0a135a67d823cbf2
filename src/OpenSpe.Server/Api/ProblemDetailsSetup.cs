using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace OpenSpe.Server.Api;

/// <summary>RFC 9457 problem details for every error: a human message, a stable code and the trace id, never internals (TIR-10).</summary>
internal static class ProblemDetailsSetup
{
    /// <summary>Registers problem details with the SPE's extensions.</summary>
    public static IServiceCollection AddSpeProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            var status = problem.Status ?? context.HttpContext.Response.StatusCode;
            problem.Status = status;
            problem.Type ??= $"https://openspe.eu/problems/{status}";
            problem.Title ??= ReasonPhrases.For(status);
            problem.Detail ??= DefaultDetail(status);
            problem.Instance ??= context.HttpContext.Request.Path;
            problem.Extensions["traceId"] = TraceIds.Current(context.HttpContext);
            if (!problem.Extensions.ContainsKey("code"))
            {
                problem.Extensions["code"] = ProblemCodes.ForStatus(status);
            }
        });
        return services;
    }

    /// <summary>Writes a problem response directly (for middleware that answers before routing).</summary>
    public static async Task WriteProblemAsync(HttpContext context, int status, string code, string detail, IDictionary<string, string[]>? errors = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = status;
        var problem = errors is null
            ? new ProblemDetails { Status = status, Detail = detail }
            : new HttpValidationProblemDetails(errors) { Status = status, Detail = detail };
        problem.Extensions["code"] = code;
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await service.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    private static string DefaultDetail(int status) => status switch
    {
        400 => "The request is malformed.",
        401 => "Authentication is required: sign in with multi-factor authentication and send a bearer token.",
        403 => "You are not allowed to do this.",
        404 => "There is no such resource.",
        405 => "This method is not allowed here.",
        413 => "The request body is too large.",
        415 => "The content type is not supported here.",
        429 => "Too many requests: wait before retrying (see Retry-After).",
        503 => "The service is temporarily unavailable.",
        _ => "An unexpected error occurred. Quote the trace id when reporting it.",
    };
}

/// <summary>Standard reason phrases (kept here so problem titles never come from exception text).</summary>
internal static class ReasonPhrases
{
    public static string For(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}

/// <summary>The W3C trace id of the current request, as logged and audited.</summary>
internal static class TraceIds
{
    /// <summary>Returns the trace id: from the request's activity (honouring an incoming <c>traceparent</c>).</summary>
    public static string Current(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(typeof(TraceIds), out var cached) && cached is string id)
        {
            return id;
        }

        var traceId = Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity
            ? activity.TraceId.ToHexString()
            : ActivityTraceId.CreateRandom().ToHexString();
        context.Items[typeof(TraceIds)] = traceId;
        return traceId;
    }
}
