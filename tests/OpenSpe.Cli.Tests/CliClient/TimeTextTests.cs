using OpenSpe.Cli.Output;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>The times people type after <c>--since</c> and <c>--until</c>, and how times are printed for people.</summary>
public sealed class TimeTextTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 16, 45, 30, TimeSpan.Zero);

    [Theory]
    [InlineData("2026-12-01T09:30:00Z", "2026-12-01T09:30:00.0000000+00:00")]
    [InlineData("2026-12-01T10:30:00+01:00", "2026-12-01T09:30:00.0000000+00:00")]
    [InlineData("2026-12-01t09:30:00.125z", "2026-12-01T09:30:00.1250000+00:00")]
    [InlineData("2026-12-01 09:30Z", "2026-12-01T09:30:00.0000000+00:00")]
    [InlineData("2026-12-01", "2026-12-01T00:00:00.0000000+00:00")]
    [InlineData("today", "2026-12-02T00:00:00.0000000+00:00")]
    [InlineData(" Yesterday ", "2026-12-01T00:00:00.0000000+00:00")]
    [InlineData("now", "2026-12-02T16:45:30.0000000+00:00")]
    [InlineData("30m", "2026-12-02T16:15:30.0000000+00:00")]
    [InlineData("24h", "2026-12-01T16:45:30.0000000+00:00")]
    [InlineData("7d", "2026-11-25T16:45:30.0000000+00:00")]
    public void Accepted_forms_read_as_the_same_instant_on_every_machine(string text, string expected)
    {
        Assert.True(TimeText.TryParse(text, Now, out var time));

        Assert.Equal(expected, time.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday-ish")]
    [InlineData("2026-12-01T09:30:00")]
    [InlineData("2026-12-01 09:30")]
    [InlineData("12/01/2026")]
    [InlineData("2026-13-01")]
    [InlineData("-5d")]
    [InlineData("5w")]
    [InlineData("d")]
    [InlineData("99999999d")]
    public void Times_without_an_offset_and_other_forms_are_refused(string text) =>
        Assert.False(TimeText.TryParse(text, Now, out _));

    [Fact]
    public void Times_for_people_are_utc_to_the_second()
    {
        Assert.Equal("2026-12-01 08:30:00Z", TimeText.ForPeople(new DateTimeOffset(2026, 12, 1, 10, 30, 0, 999, TimeSpan.FromHours(2))));
        Assert.Null(TimeText.ForPeople(null));
    }
}
