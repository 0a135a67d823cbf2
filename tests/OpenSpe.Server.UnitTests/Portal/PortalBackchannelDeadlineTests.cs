using OpenSpe.Server.Portal;

namespace OpenSpe.Server.UnitTests.Portal;

/// <summary>
/// How long the portal waits for the API: a page's call has the fixed deadline; an upload's grows with its body, so the
/// largest import the airlock admits (256 MiB) is not cut off by a deadline set for pages.
/// </summary>
public sealed class PortalBackchannelDeadlineTests
{
    [Theory]
    [InlineData(null, 60)]
    [InlineData(0L, 60)]
    [InlineData(-5L, 60)]
    [InlineData(4L << 20, 61)]
    [InlineData(256L << 20, 124)]
    public void The_deadline_is_the_call_timeout_plus_the_body_at_the_floor_rate(long? bodyBytes, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), PortalBackchannel.DeadlineFor(bodyBytes));
}
