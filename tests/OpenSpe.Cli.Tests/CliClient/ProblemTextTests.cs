using System.Net;
using OpenSpe.Cli.Client;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>Error answers become one readable line: <c>spe: detail (code, trace id)</c>.</summary>
public sealed class ProblemTextTests
{
    [Fact]
    public void A_problem_renders_detail_code_and_trace()
    {
        var ex = ProblemText.FromBody(
            """{"type":"https://openspe.eu/problems/403","title":"Forbidden","status":403,"detail":"You are not allowed to do this.","code":"SPE1006","traceId":"4bf92f3577b34da6a3ce929d0e0e4736"}""",
            HttpStatusCode.Forbidden, "Forbidden");

        Assert.Equal("You are not allowed to do this. (SPE1006, trace 4bf92f3577b34da6a3ce929d0e0e4736)", ex.Message);
        Assert.Equal(HttpStatusCode.Forbidden, ex.Status);
        Assert.Equal("SPE1006", ex.Problem!.Code);
    }

    [Fact]
    public void Validation_errors_are_listed_on_the_same_line()
    {
        var ex = ProblemText.FromBody(
            """{"title":"Bad Request","status":400,"detail":"Input failed validation.","code":"SPE1002","traceId":"t1","errors":{"username":["too short"],"roles":["unknown role 'x'","duplicate"]}}""",
            HttpStatusCode.BadRequest, "Bad Request");

        Assert.Equal("Input failed validation: roles: unknown role 'x', duplicate; username: too short (SPE1002, trace t1)", ex.Message);
    }

    [Fact]
    public void Sentences_joined_into_one_line_lose_their_full_stops_except_the_last()
    {
        var ex = ProblemText.FromBody(
            """{"detail":"The query has invalid parameters. ","code":"SPE1002","errors":{"limit":["limit must be between 1 and 1000."],"since":["since is not a time.","since is required."]}}""",
            HttpStatusCode.BadRequest, "Bad Request");

        Assert.Equal("The query has invalid parameters: limit: limit must be between 1 and 1000; since: since is not a time, since is required (SPE1002)", ex.Message);
        Assert.DoesNotContain(".:", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(".;", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Refused.", "Refused")]
    [InlineData("Refused..", "Refused..")]
    [InlineData("Wait...", "Wait...")]
    [InlineData("v1.2 refused. .", "v1.2 refused")]
    [InlineData("no stop", "no stop")]
    [InlineData("", "")]
    public void A_clause_drops_its_closing_full_stop_but_keeps_an_ellipsis(string text, string expected) =>
        Assert.Equal(expected, ProblemText.Clause(text));

    [Fact]
    public void Missing_parts_are_left_out_and_title_stands_in_for_detail()
    {
        Assert.Equal("Conflict (SPE4001)", ProblemText.FromBody("""{"title":"Conflict","code":"SPE4001"}""", HttpStatusCode.Conflict, "Conflict").Message);
        Assert.Equal("gone", ProblemText.FromBody("""{"detail":"gone"}""", HttpStatusCode.Gone, null).Message);
    }

    [Theory]
    [InlineData("<html>Bad gateway</html>")]
    [InlineData("")]
    [InlineData("{\"unrelated\":true}")]
    [InlineData("{broken")]
    public void A_body_that_is_no_problem_reports_the_status(string body)
    {
        Assert.Equal("the server answered 502 Bad Gateway", ProblemText.FromBody(body, HttpStatusCode.BadGateway, "Bad Gateway").Message);
    }

    [Fact]
    public void Server_text_cannot_break_the_line_or_drive_the_terminal()
    {
        var ex = ProblemText.FromBody("{\"detail\":\"line one\\nline two \\u001b[31mred\",\"code\":\"SPE1000\"}", HttpStatusCode.InternalServerError, null);

        Assert.Equal("line one line two \\u001b[31mred (SPE1000)", ex.Message);
    }
}
