using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;

namespace OpenSpe.Server.Api;

/// <summary>
/// Strict JSON (TIR-9, TIR-17): unknown or duplicate properties, comments, trailing commas, numbers in
/// strings, invalid UTF-8 and (in request bodies) control characters in strings and instants without an offset are refused.
/// </summary>
internal static class JsonSetup
{
    /// <summary>Applies the strict settings to minimal-API JSON.</summary>
    public static IServiceCollection AddSpeJson(this IServiceCollection services)
    {
        services.Configure<JsonOptions>(options =>
        {
            Apply(options.SerializerOptions);
            options.SerializerOptions.Converters.Add(new StrictStringConverter());
            options.SerializerOptions.Converters.Add(new StrictInstantConverter());
        });
        return services;
    }

    /// <summary>Applies the strict settings to a serializer options instance (also used by the CLI).</summary>
    public static void Apply(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.AllowTrailingCommas = false;
        // Note: duplicates refused, because two readers of one body (a proxy, a signature check, this server) may each take another copy.
        options.AllowDuplicateProperties = false;
        options.ReadCommentHandling = JsonCommentHandling.Disallow;
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.RespectNullableAnnotations = true;
        options.RespectRequiredConstructorParameters = true;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
    }
}
