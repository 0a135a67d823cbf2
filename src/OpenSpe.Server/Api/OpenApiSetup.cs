using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace OpenSpe.Server.Api;

/// <summary>The OpenAPI 3 document at <c>/openapi/v1.json</c> (TIR-6), with the bearer scheme and per-operation security.</summary>
public static class OpenApiSetup
{
    /// <summary>Scheme name in the document.</summary>
    public const string BearerScheme = "bearer";

    /// <summary>Registers the v1 document.</summary>
    public static IServiceCollection AddSpeOpenApi(this IServiceCollection services)
    {
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "OpenSPE API",
                    Version = "v1",
                    Description = "Secure Processing Environment API. Every error is an RFC 9457 problem; every request is audited.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "Access token from a multi-factor sign-in (amr must include a second factor).",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAllowAnonymous>().Any())
                {
                    return Task.CompletedTask;
                }

                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [],
                });
                operation.Responses ??= new OpenApiResponses();
                operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Not signed in with MFA (problem details)." });
                operation.Responses.TryAdd("403", new OpenApiResponse { Description = "Not allowed (problem details)." });
                operation.Responses.TryAdd("429", new OpenApiResponse { Description = "Rate limited; see Retry-After (problem details)." });
                return Task.CompletedTask;
            });
        });
        return services;
    }
}
