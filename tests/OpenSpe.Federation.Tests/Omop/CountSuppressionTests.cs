using OpenSpe.Federation.Omop;

namespace OpenSpe.Federation.Tests.Omop;

public sealed class CountSuppressionTests
{
    private static string Apply(int threshold, params long[] counts) =>
        string.Join(' ', CountSuppression.Apply([.. counts.Select(c => ((string?)null, (string?)c.ToString(System.Globalization.CultureInfo.InvariantCulture), c))], threshold)
            .Select(c => c.Suppressed ? "-" : c.Count!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [Trait("Requirement", "FCR-6")]
    [InlineData(10, "20 30 40", "20 30 40")]
    [InlineData(10, "10 30", "10 30")]
    [InlineData(10, "9 30 40", "- - 40")]
    [InlineData(10, "3 4 50", "- - -")]
    [InlineData(10, "3 4 5 50", "- - - 50")]
    [InlineData(10, "2 8 50", "- - 50")]
    [InlineData(10, "5", "-")]
    [InlineData(10, "30", "30")]
    public void Small_cells_and_their_protectors_are_suppressed(int threshold, string counts, string expected)
    {
        Assert.Equal(expected, Apply(threshold, [.. counts.Split(' ').Select(long.Parse)]));
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public void Zeros_leave_only_when_the_policy_allows_them()
    {
        (string?, string?, long)[] cells = [(null, "a", 0), (null, "b", 30), (null, "c", 40)];

        Assert.Equal([true, true, false], CountSuppression.Apply(cells, 10).Select(c => c.Suppressed));
        Assert.Equal([false, false, false], CountSuppression.Apply(cells, 10, zerosAllowed: true).Select(c => c.Suppressed));
    }
}
