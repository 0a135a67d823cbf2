using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace OpenSpe.Server.Api;

/// <summary>The OpenAPI 3 document at <c>/openapi/v1.json</c> (TIR-6), with the bearer scheme and per-operation security.</summary>
internal static partial class OpenApiSetup
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
                return Task.CompletedTask;
            });

            // Note: handlers that read a route value from the request (the access gate's {projectId}) do not bind it, so the
            // generator would leave it out; every {name} of the route is a required path parameter.
            options.AddOperationTransformer((operation, context, _) =>
            {
                foreach (var name in RouteParameter().Matches(context.Description.RelativePath ?? "").Select(m => m.Groups[1].Value))
                {
                    operation.Parameters ??= [];
                    if (!operation.Parameters.Any(p => p.In == ParameterLocation.Path && p.Name == name))
                    {
                        operation.Parameters.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Path, Required = true, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
                    }
                }

                return Task.CompletedTask;
            });
            options.AddDocumentTransformer((document, _, _) =>
            {
                Identity.OAuthOpenApi.Describe(document);
                return Task.CompletedTask;
            });

            // Note: answers leave out null members (JsonSetup: WhenWritingNull), so a nullable member is optional in the
            // document; marked required, a valid answer (the last page's nextBefore) would fail a client's schema check.
            // The document's components too: a nullable member whose type is another schema is only marked nullable there.
            options.AddSchemaTransformer((schema, _, _) =>
            {
                OptionalWhenNullable(schema);
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer((document, _, _) =>
            {
                foreach (var schema in document.Components?.Schemas?.Values ?? [])
                {
                    OptionalWhenNullable(schema);
                }

                return Task.CompletedTask;
            });
        });
        return services;
    }

    private static void OptionalWhenNullable(IOpenApiSchema schema)
    {
        if (schema is { Required.Count: > 0, Properties: { } properties })
        {
            foreach (var (name, property) in properties)
            {
                if (IsNullable(property))
                {
                    schema.Required.Remove(name);
                }
            }
        }
    }

    private static bool IsNullable(IOpenApiSchema schema) =>
        (schema.Type is { } type && type.HasFlag(JsonSchemaType.Null))
        || (schema.OneOf?.Any(IsNullable) ?? false)
        || (schema.AnyOf?.Any(IsNullable) ?? false);

    [System.Text.RegularExpressions.GeneratedRegex(@"\{([A-Za-z0-9_]+)")]
    private static partial System.Text.RegularExpressions.Regex RouteParameter();
}
