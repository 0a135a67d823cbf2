using OpenSpe.Federation.Data;

namespace OpenSpe.Federation.Tests.Data;

public sealed class LocalTableTests
{
    private static LocalTable Read(string csv) => LocalTable.Read(new StringReader(csv), "t.csv");

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public void Cells_are_read_as_R_read_csv_reads_them()
    {
        var table = Read("a,\"b\",c\r\n1,\"x, \"\"y\"\"\",NA\r\n,\"NA\",\"\"\n\n3,4,5");

        Assert.Equal(["a", "b", "c"], table.Columns);
        Assert.Equal(3, table.Rows.Count);
        Assert.Equal(new string?[] { "1", "x, \"y\"", null }, table.Rows[0].AsEnumerable());
        Assert.Equal(new string?[] { null, "NA", null }, table.Rows[1].AsEnumerable()); // unquoted NA and empty fields are missing; quoted "NA" is text
        Assert.Equal(new string?[] { "3", "4", "5" }, table.Rows[2].AsEnumerable());
    }

    [Theory]
    [Trait("Requirement", "FCR-5")]
    [InlineData("", "t.csv is empty")]
    [InlineData("a,,c\n1,2,3\n", "empty column name")]
    [InlineData("a,b\n1,2,3\n", "t.csv row 1 has 3 fields; the header has 2.")]
    [InlineData("a,b\n1,\"2\n", "not closed")]
    [InlineData("a,b\n1,\"2\"x\n", "followed by text")]
    public void Malformed_csv_is_refused_with_the_reason(string csv, string reason)
    {
        var error = Assert.Throws<InvalidDataException>(() => Read(csv));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
