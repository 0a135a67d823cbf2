using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.Api;

/// <summary>
/// Turns exceptions into problem details. Bad requests become 4xx with field errors; a blocked
/// audit log becomes 503; anything else becomes a bare 500 with a trace id: the exception's
/// text, type and stack never leave the server (TIR-10).
/// </summary>
internal sealed partial class SpeExceptionHandler(ILogger<SpeExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case BadHttpRequestException bad when bad.InnerException is JsonException json:
                await ProblemDetailsSetup.WriteProblemAsync(httpContext, StatusCodes.Status400BadRequest, ErrorCodes.MalformedBody,
                    "The request body is not valid JSON for this operation.", JsonErrors.Describe(json));
                return true;
            case BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge:
                await ProblemDetailsSetup.WriteProblemAsync(httpContext, 413, ErrorCodes.BodyTooLarge, "The request body is larger than this endpoint accepts.");
                return true;
            case BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status415UnsupportedMediaType:
                await ProblemDetailsSetup.WriteProblemAsync(httpContext, 415, ErrorCodes.UnsupportedMediaType, "Send the body as application/json.");
                return true;
            case BadHttpRequestException:
                // Note: the framework's message can name parameter types; only the status goes out.
                await ProblemDetailsSetup.WriteProblemAsync(httpContext, StatusOf(exception), ErrorCodes.BadRequest,
                    "The request is malformed: check the parameters and body against the API document at /openapi/v1.json.");
                return true;
            case Exception when IsUnreadableForm(exception):
                // Note: a form body the framework cannot decode (a NUL in a value, a value or key over the form limits, broken multipart)
                // is the caller's mistake, anonymous at /connect/token and the sign-in page: a 400, never a 500 and an error in the log.
                await ProblemDetailsSetup.WriteProblemAsync(httpContext, StatusCodes.Status400BadRequest, ErrorCodes.MalformedBody,
                    "The form body cannot be read: a value holds a character a form may not carry (such as NUL), or the form is over its limits.");
                return true;
            case AuditUnavailableException:
                await ProblemDetailsSetup.WriteProblemAsync(httpContext, 503, ErrorCodes.AuditUnavailable,
                    "The audit log cannot be written, so nothing was done. Try again later.");
                return true;
            default:
                LogUnhandled(logger, exception, TraceIds.Current(httpContext));
                await ProblemDetailsSetup.WriteProblemAsync(httpContext, 500, ErrorCodes.Internal,
                    "An unexpected error occurred. Quote the trace id when reporting it.");
                return true;
        }
    }

    /// <summary>
    /// The status this handler answers <paramref name="exception"/> with, so the audit record written before it runs (the audit
    /// middleware sits inside it) says the same: a malformed body is the caller's 4xx, not the server's 500.
    /// </summary>
    public static int StatusOf(Exception exception) => exception switch
    {
        BadHttpRequestException { InnerException: JsonException } => StatusCodes.Status400BadRequest,
        BadHttpRequestException bad => bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : StatusCodes.Status400BadRequest,
        _ when IsUnreadableForm(exception) => StatusCodes.Status400BadRequest,
        AuditUnavailableException => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>
    /// True when the framework's form or multipart reader threw, directly or inside the exception of whoever read the form (anti-forgery
    /// wraps it): the body, not the server, is at fault.
    /// </summary>
    private static bool IsUnreadableForm(Exception? exception) =>
        exception is not null
        && ((exception is InvalidDataException && exception.TargetSite?.DeclaringType?.Namespace == "Microsoft.AspNetCore.WebUtilities")
            || IsUnreadableForm(exception.InnerException));

    [LoggerMessage(EventId = 10000, Level = LogLevel.Error, Message = "SPE10000 unhandled exception for trace {TraceId}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string traceId);
}

/// <summary>Field-level descriptions of JSON errors, in our words (the serializer's messages name .NET types).</summary>
internal static class JsonErrors
{
    public static Dictionary<string, string[]> Describe(JsonException exception)
    {
        var path = string.IsNullOrEmpty(exception.Path) ? "$" : exception.Path;
        var message = exception.Message;
        string text;
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            text = "Unknown property: this operation does not accept it.";
        }
        else if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            text = "Wrong type for this property.";
        }
        else if (message.Contains("missing required properties", StringComparison.Ordinal))
        {
            text = "A required property is missing.";
        }
        else if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            text = "Duplicate property: each property may appear once.";
        }
        else if (message == StrictStringConverter.ControlCharacterMessage)
        {
            text = "Control characters (other than tab and line breaks) are not accepted in strings.";
        }
        else if (message == StrictInstantConverter.OffsetRequiredMessage)
        {
            text = message;
        }
        else if (message.Contains("UTF-8", StringComparison.OrdinalIgnoreCase) || message.Contains("UTF8", StringComparison.OrdinalIgnoreCase))
        {
            text = "The body is not valid UTF-8.";
        }
        else
        {
            text = "Malformed JSON.";
        }

        return new Dictionary<string, string[]>(StringComparer.Ordinal) { [path] = [text] };
    }
}
