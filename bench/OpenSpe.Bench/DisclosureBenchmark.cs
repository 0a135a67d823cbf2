using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;
using OpenSpe.Disclosure;
using OpenSpe.Disclosure.Descriptions;
using OpenSpe.Disclosure.Identifiers;

namespace OpenSpe.Bench;

/// <summary>
/// The airlock's automatic checks (<c>OpenSpe.Disclosure</c>) end to end from files on disk, as <c>spe airlock check</c>
/// runs them: a 100 × 100 frequency table; a 1,000,000-row record-level CSV with four quasi-identifiers and one sensitive
/// column (k-anonymity and l-diversity, plus the file-type and identifier checks every file gets); and the identifier scan
/// alone over 100 MB of text. All on one thread.
/// </summary>
[Config(typeof(DisclosureBenchConfig))]
public class DisclosureBenchmark
{
    public const int TextMegabytes = 100;
    private const int RecordRows = 1_000_000;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "spe-bench-disclosure-" + Guid.NewGuid().ToString("N"));
    private IReadOnlyList<OutputDescription> _descriptions = [];
    private byte[] _text = [];

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_directory);
        var random = new Random(14);

        var table = new StringBuilder("label");
        for (var c = 0; c < 99; c++)
        {
            table.Append(CultureInfo.InvariantCulture, $",c{c}");
        }

        table.Append('\n');
        for (var r = 0; r < 100; r++)
        {
            table.Append(CultureInfo.InvariantCulture, $"row{r}");
            for (var c = 0; c < 99; c++)
            {
                table.Append(CultureInfo.InvariantCulture, $",{random.Next(10, 5000)}");
            }

            table.Append('\n');
        }

        File.WriteAllText(Path.Combine(_directory, "freq.csv"), table.ToString());

        // 10 age bands × 2 sexes × 50 zip3 × 10 years = 10,000 classes of about 100 rows; 20 diagnoses.
        using (var records = new StreamWriter(Path.Combine(_directory, "cohort.csv")))
        {
            records.Write("age_band,sex,zip3,year,diagnosis\n");
            for (var r = 0; r < RecordRows; r++)
            {
                var age = random.Next(10) * 10;
                records.Write(string.Create(CultureInfo.InvariantCulture,
                    $"{age}-{age + 9},{(random.Next(2) == 0 ? "F" : "M")},{random.Next(50):000},{2010 + random.Next(10)},D{random.Next(20):00}\n"));
            }
        }

        _descriptions = OutputDescriptionParser.Parse("""
            {"outputs": [{"file": "freq.csv", "kind": "frequency", "labelColumns": ["label"]},
                         {"file": "cohort.csv", "kind": "records", "quasiIdentifiers": ["age_band", "sex", "zip3", "year"], "sensitive": ["diagnosis"]}]}
            """);

        // Prose with the digits, capitals and punctuation that make the scanner stop and look.
        string[] words = ["the", "cohort", "of", "patients", "Helsinki", "was", "followed", "for", "12", "months", "and", "3.5", "years",
            "with", "HbA1c", "measured", "in", "2019-03-14", "mean", "42.7", "SD", "Note:", "see", "Table", "2", "n=1234", "p<0.05", "(95%", "CI)"];
        var text = new StringBuilder(TextMegabytes * 1024 * 1024);
        while (text.Length < TextMegabytes * 1024 * 1024)
        {
            for (var w = 0; w < 12; w++)
            {
                text.Append(words[random.Next(words.Length)]).Append(' ');
            }

            text.Append(".\n");
        }

        _text = Encoding.UTF8.GetBytes(text.ToString(0, TextMegabytes * 1024 * 1024));
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    [Benchmark(Description = "100 × 100 frequency table, end to end")]
    public DisclosureStatus FrequencyTable() =>
        new OutputChecker(DisclosurePolicy.Default).CheckFile(Path.Combine(_directory, "freq.csv"), _descriptions).Status;

    [Benchmark(Description = "k-anonymity + l-diversity, 1,000,000 rows, 4 QIs, end to end")]
    public DisclosureStatus Records() =>
        new OutputChecker(DisclosurePolicy.Default).CheckFile(Path.Combine(_directory, "cohort.csv"), _descriptions).Status;

    [Benchmark(Description = "identifier scan, 100 MB of text")]
    public int IdentifierScan() => IdentifierScanner.Scan(_text).Count;
}

/// <summary>
/// The short job, run in the benchmark's own process: the library is BCL-only and allocation-light, and in-process saves
/// a rebuild of the whole bench project (server included) per run on a machine shared with other builds.
/// </summary>
public sealed class DisclosureBenchConfig : ManualConfig
{
    public DisclosureBenchConfig()
    {
        AddJob(BenchConfig.ShortJob.WithToolchain(InProcessNoEmitToolchain.Instance));
        AddColumn(StatisticColumn.Min, StatisticColumn.Max);
    }
}
