using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace OpenSpe.Server.Api;

/// <summary>Typed problem results for handlers, so every endpoint builds its RFC 9457 answers the same way (code in <c>code</c>).</summary>
internal static class Problems
{
    /// <summary>A problem with a status, a stable code (default: the status's generic code) and a human detail.</summary>
    public static ProblemHttpResult Of(int status, string detail, string? code = null) =>
        TypedResults.Problem(statusCode: status, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = code ?? ProblemCodes.ForStatus(status) });

    /// <summary>A 400 with field-level errors.</summary>
    public static ValidationProblem Invalid(IDictionary<string, string[]> errors, string? detail = null) =>
        TypedResults.ValidationProblem(errors, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = ErrorCodes.ValidationFailed });

    /// <summary>A 400 naming one field.</summary>
    public static ValidationProblem Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });
}
