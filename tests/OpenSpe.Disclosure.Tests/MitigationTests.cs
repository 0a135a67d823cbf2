namespace OpenSpe.Disclosure.Tests;

[Trait("Requirement", "EHDSR-12")]
public sealed class MitigationTests
{
    [Theory]
    [InlineData(0, null)]
    [InlineData(9, null)]
    [InlineData(10, 10L)]
    [InlineData(11, 11L)]
    public void Suppress_BelowTheThreshold(long count, long? expected) => Assert.Equal(expected, Mitigations.Suppress(count));

    [Fact]
    public void Suppress_KeepsZeroWhenAllowed() => Assert.Equal(0L, Mitigations.Suppress(0, zerosAllowed: true));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(2, 0)]
    [InlineData(3, 5)]
    [InlineData(12, 10)]
    [InlineData(13, 15)]
    [InlineData(15, 15)]
    public void RoundToBase5(long count, long expected) => Assert.Equal(expected, Mitigations.RoundToBase(count));

    [Theory]
    [InlineData(0, null)]
    [InlineData(7, null)]
    [InlineData(8, 10L)]
    [InlineData(12, 10L)]
    [InlineData(13, 15L)]
    public void OpenSafely_RedactsAtOrBelow7ThenRoundsTo5(long count, long? expected) => Assert.Equal(expected, Mitigations.RedactAndRound(count));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 3)]
    [InlineData(6, 3)]
    [InlineData(7, 9)]
    [InlineData(12, 9)]
    [InlineData(13, 15)]
    public void Midpoint6(long count, long expected) => Assert.Equal(expected, Mitigations.Midpoint6(count));
}
