using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace OpenSpe.Server.Api;

/// <summary>
/// The problem answers an endpoint declares, so the OpenAPI document lists every status it can answer, each with the
/// RFC 9457 schema. Applied to route groups once; a status already declared (by the handler's result types or an
/// earlier convention) is not added twice.
/// </summary>
internal static class ProblemResponses
{
    /// <summary>The problem content type.</summary>
    public const string ContentType = "application/problem+json";

    /// <summary>Statuses any request can get: rate limited, an unexpected error, the audit log (or a dependency) unavailable.</summary>
    public static readonly int[] Common = [429, 500, 503];

    /// <summary>Statuses of a signed-in request: no valid token, or the roles do not allow it.</summary>
    public static readonly int[] SignedIn = [401, 403];

    /// <summary>
    /// Statuses the access chain and its gate give a project-scoped request beyond <see cref="SignedIn"/>: the project is
    /// hidden from the caller (404) or halted (423); a halt state this instance cannot read is a 503 (in <see cref="Common"/>).
    /// </summary>
    public static readonly int[] Project = [404, 423];

    /// <summary>Statuses of a request with a JSON body: malformed or invalid, too large, not JSON.</summary>
    public static readonly int[] JsonBody = [400, 413, 415];

    /// <summary>Declares problem answers with these statuses.</summary>
    public static TBuilder ProducesProblems<TBuilder>(this TBuilder builder, params int[] statuses)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(statuses);
        builder.Add(endpoint =>
        {
            foreach (var status in statuses)
            {
                if (!endpoint.Metadata.OfType<IProducesResponseTypeMetadata>().Any(m => m.StatusCode == status))
                {
                    endpoint.Metadata.Add(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), [ContentType]));
                }
            }
        });
        return builder;
    }

    /// <summary>Declares the answers any request can get (<see cref="Common"/>): for anonymous endpoints.</summary>
    public static TBuilder ProducesCommonProblems<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.ProducesProblems(Common);

    /// <summary>Declares the answers of an endpoint that needs a signed-in caller (<see cref="Common"/>, <see cref="SignedIn"/>).</summary>
    public static TBuilder ProducesSignedInProblems<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.ProducesProblems([.. SignedIn, .. Common]);

    /// <summary>Declares the answers of a project-scoped endpoint behind the access chain (signed in, plus <see cref="Project"/>).</summary>
    public static TBuilder ProducesProjectProblems<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.ProducesProblems([.. SignedIn, .. Project, .. Common]);

    /// <summary>Declares the answers of a JSON body that cannot be read (<see cref="JsonBody"/>).</summary>
    public static TBuilder ProducesJsonBodyProblems<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.ProducesProblems(JsonBody);
}
