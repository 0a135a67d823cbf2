using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OpenSpe.Server.Api;

/// <summary>
/// Validates a request body's data annotations (lengths, ranges, required) before the handler
/// runs, answering 400 with field-level errors named as the JSON properties are (TIR-9, TIR-17).
/// </summary>
/// <typeparam name="T">The body type.</typeparam>
internal sealed class ValidationFilter<T> : IEndpointFilter
    where T : class
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var body = context.Arguments.OfType<T>().FirstOrDefault();
        if (body is null)
        {
            return Problems.Of(400, "A JSON body is required.", ErrorCodes.MalformedBody);
        }

        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(body, new ValidationContext(body), results, validateAllProperties: true))
        {
            return await next(context);
        }

        var errors = results
            .SelectMany(r => (r.MemberNames.Any() ? r.MemberNames : [""]).Select(m => (Member: JsonNamingPolicy.CamelCase.ConvertName(m), r.ErrorMessage ?? "Invalid value.")))
            .GroupBy(e => e.Member, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Item2).ToArray(), StringComparer.Ordinal);
        return Problems.Invalid(errors, "The request has invalid fields.");
    }
}

/// <summary>Adds <see cref="ValidationFilter{T}"/> to an endpoint.</summary>
internal static class ValidationFilterExtensions
{
    public static RouteHandlerBuilder Validate<T>(this RouteHandlerBuilder builder)
        where T : class => builder.AddEndpointFilter<ValidationFilter<T>>().ProducesValidationProblem().ProducesJsonBodyProblems();
}
