using System.Globalization;
using System.Text;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// Three federation nodes as in <see cref="ThreeNodeFixture"/>, each holding a third of OHDSI's Eunomia "Synthea27Nj" OMOP CDM
/// v5.4 sample (the files in tests/OpenSpe.Federation.Tests/TestData/omop, copied from the shared data set omop-synthea27nj/;
/// see its README there): PERSON, CONDITION_OCCURRENCE and DRUG_EXPOSURE split by person_id mod 3 (node-a 0, node-b 1, node-c 2),
/// the vocabulary whole at each. Every node's operator allows the cohort count; the permit's threshold is 9, so Viral sinusitis
/// (6, 9 and 8 persons at the three nodes) is released at node-b only.
/// </summary>
public sealed class OmopThreeNodeFixture : ThreeNodeFixture
{
    public const int PermitThreshold = 9;

    private static readonly string[] Split = ["PERSON", "CONDITION_OCCURRENCE", "DRUG_EXPOSURE"];
    private static readonly string[] Whole = ["CONCEPT", "CONCEPT_ANCESTOR"];

    protected override int Threshold => PermitThreshold;

    protected override bool NodeCAllowsCounts => true;

    protected override IEnumerable<(string Name, byte[] Content)> Files(int site)
    {
        foreach (var table in Split)
        {
            // person_id is PERSON's first column and the second of the event tables.
            yield return (table + ".csv", Encoding.UTF8.GetBytes(Filter(Read(table), table == "PERSON" ? 0 : 1, site - 1)));
        }

        foreach (var table in Whole)
        {
            yield return (table + ".csv", Encoding.UTF8.GetBytes(Read(table)));
        }
    }

    private static string Read(string table) => File.ReadAllText(Path.Combine(RepositoryRoot.Path, "tests", "OpenSpe.Federation.Tests", "TestData", "omop", table + ".csv"));

    private static string Filter(string csv, int personColumn, int remainder)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', lines.Take(1).Concat(lines.Skip(1).Where(l => long.Parse(l.Split(',')[personColumn], CultureInfo.InvariantCulture) % 3 == remainder))) + "\n";
    }
}
