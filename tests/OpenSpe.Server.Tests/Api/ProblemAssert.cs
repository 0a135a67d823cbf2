using System.Net;
using System.Text.Json;

namespace OpenSpe.Server.Tests.Api;

/// <summary>Checks that a response is an RFC 9457 problem with a human message, a code and a trace id, and nothing internal.</summary>
internal static class ProblemAssert
{
    private static readonly string[] Internals =
    [
        "Exception", "   at ", "/work/", "/src/", ".cs:line", "System.", "Microsoft.", "SELECT ", "INSERT ", "sqlite", "Npgsql", "StackTrace",
    ];

    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        foreach (var marker in Internals)
        {
            Assert.DoesNotContain(marker, body, StringComparison.OrdinalIgnoreCase);
        }

        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        Assert.Matches("^SPE[0-9]{4}$", problem.GetProperty("code").GetString());
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
        return problem;
    }
}
