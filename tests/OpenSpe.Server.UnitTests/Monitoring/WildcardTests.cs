using OpenSpe.Server.Monitoring.Alerts;

namespace OpenSpe.Server.UnitTests.Monitoring;

/// <summary>The alert rules' action and route patterns: <c>*</c> for any run of characters, everything else literal.</summary>
public sealed class WildcardTests
{
    [Theory]
    [InlineData("identity.signin", "identity.signin", true)]
    [InlineData("identity.signin", "identity.signin.failed", false)]
    [InlineData("identity.signin", "identity.signi", false)]
    [InlineData("identity.*", "identity.signin", true)]
    [InlineData("identity.*", "identity.", true)]
    [InlineData("identity.*", "identity", false)]
    [InlineData("*.downloaded", "export.file.downloaded", true)]
    [InlineData("*.downloaded", "export.file.downloaded.twice", false)]
    [InlineData("project.*.file.*", "project.exports.file.downloaded", true)]
    [InlineData("project.*.file.*", "project.exports.files", false)]
    [InlineData("a*b*c", "abc", true)]
    [InlineData("a*b*c", "aXbYbZc", true)]
    [InlineData("a*b*c", "aXbYcZ", false)]
    [InlineData("*", "", true)]
    [InlineData("*", "anything.at.all", true)]
    [InlineData("**", "x", true)]
    [InlineData("", "", true)]
    [InlineData("", "x", false)]
    [InlineData("x", "", false)]
    [InlineData("Identity.*", "identity.signin", false)]
    [InlineData("/api/v1/projects/*/files", "/api/v1/projects/p-1/files", true)]
    [InlineData("a.b", "aXb", false)]
    public void Star_stands_for_any_run_and_the_rest_for_itself(string pattern, string text, bool matches) =>
        Assert.Equal(matches, new Wildcard(pattern).IsMatch(text));

    [Fact]
    public void A_pattern_that_backtracks_at_every_star_ends_without_a_timeout_and_answers_right()
    {
        // Note: the shape that makes a backtracking regular expression slow; here it is bounded by pattern × text steps.
        var text = new string('a', 20_000);

        Assert.False(new Wildcard("*a*a*a*a*a*a*a*a*b").IsMatch(text));
        Assert.True(new Wildcard("*a*a*a*a*a*a*a*a*a").IsMatch(text));
    }
}
