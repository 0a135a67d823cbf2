using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.UnitTests.Audit;

/// <summary>
/// The audit CSV export is opened in spreadsheets: a field that a spreadsheet would read as a formula (OWASP's CSV injection
/// list: = + - @, and a leading tab or carriage return, which some spreadsheets skip before reading the formula) starts with a
/// quote mark, so audit content (a User-Agent, a username someone typed) never runs.
/// </summary>
public sealed class AuditCsvTests
{
    [Theory]
    [Trait("Requirement", "OPR-7")]
    [InlineData("=HYPERLINK(\"http://x\")")]
    [InlineData("+1+cmd|' /C calc'!A0")]
    [InlineData("-2+3")]
    [InlineData("@SUM(A1:A2)")]
    [InlineData("\t=cmd")]
    [InlineData("\r=cmd")]
    public void A_field_a_spreadsheet_would_read_as_a_formula_starts_with_a_quote_mark(string agent)
    {
        var line = AuditCsv.Line(new AuditRow { Sequence = 1, Action = "auth.signin", Outcome = "success", UserAgent = agent, Hash = [1, 2] });

        var field = Fields(line)[7];

        Assert.Equal("'" + agent, field);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public void An_ordinary_field_is_written_as_it_is()
    {
        var line = AuditCsv.Line(new AuditRow { Sequence = 1, Action = "auth.signin", Outcome = "success", UserAgent = "spe/1.0 (linux)", Hash = [1, 2] });

        Assert.Equal("spe/1.0 (linux)", Fields(line)[7]);
    }

    /// <summary>The fields of one RFC 4180 line (quoted fields may hold commas, doubled quotes and line breaks).</summary>
    private static List<string> Fields(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        fields.Add(current.ToString());
        return fields;
    }
}
