namespace OpenSpe.Federation.Tests.Omop;

/// <summary>CDM directories built from the Synthea27Nj tables in TestData/omop: whole, changed, or split over nodes.</summary>
public sealed class OmopFixture : IDisposable
{
    private static readonly string[] Tables = ["PERSON", "CONDITION_OCCURRENCE", "CONCEPT", "CONCEPT_ANCESTOR", "DRUG_EXPOSURE"];
    private readonly Nodes _nodes = new();

    public static string Whole => Nodes.TestData("omop");

    public static string Read(string table) => File.ReadAllText(Path.Combine(Whole, table + ".csv"));

    /// <summary>A copy of the CDM with <paramref name="replace"/> tables replaced (content) or, when null, left out.</summary>
    public string Copy(params (string Table, string? Content)[] replace)
    {
        var files = Tables.Select(t => (t, replace.Any(r => r.Table == t) ? replace.First(r => r.Table == t).Content : Read(t)))
            .Where(f => f.Item2 is not null)
            .Select(f => (f.t + ".csv", f.Item2!))
            .ToArray();
        return _nodes.Directory(files);
    }

    /// <summary>The CDM split over three nodes by person_id mod 3 (PERSON and CONDITION_OCCURRENCE; the vocabulary whole).</summary>
    public string[] SplitByPerson() =>
        [.. Enumerable.Range(0, 3).Select(k => Copy(("PERSON", Filter("PERSON", 0, k)), ("CONDITION_OCCURRENCE", Filter("CONDITION_OCCURRENCE", 1, k)), ("DRUG_EXPOSURE", Filter("DRUG_EXPOSURE", 1, k))))];

    private static string Filter(string table, int personColumn, int node)
    {
        var lines = Read(table).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', lines.Take(1).Concat(lines.Skip(1).Where(l => long.Parse(l.Split(',')[personColumn], System.Globalization.CultureInfo.InvariantCulture) % 3 == node))) + "\n";
    }

    public void Dispose() => _nodes.Dispose();
}
