using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace OpenSpe.Server.Api;

/// <summary>
/// Refuses, with a 415 problem, a request body whose declared character set the server would not read: JSON in anything
/// but UTF-8 (RFC 8259 §8.1), and any body in a character set this runtime does not know.
/// </summary>
/// <remarks>
/// Note: without it the framework's JSON reader throws on an unknown charset and the request ends as a 500 with a stack
/// trace in the log, which anyone could repeat without signing in.
/// </remarks>
internal sealed class BodyCharsetMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type) || type.Charset is not { Length: > 0 } quoted)
        {
            return next(context);
        }

        var charset = quoted.Value!.Trim('"');
        var json = type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || type.MediaType.Value!.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
        if (json ? IsUtf8(charset) : IsKnown(charset))
        {
            return next(context);
        }

        return ProblemDetailsSetup.WriteProblemAsync(context, StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
            json ? "Send JSON in UTF-8: charset=utf-8, or no charset at all." : $"The body's charset '{charset}' is not one this server reads: send UTF-8.");
    }

    private static bool IsUtf8(string charset) =>
        charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);

    private static bool IsKnown(string charset)
    {
        try
        {
            _ = System.Text.Encoding.GetEncoding(charset);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
