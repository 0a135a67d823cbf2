using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Bench;

/// <summary>
/// Crypt4GH throughput with the library's streams: 1 GiB of plaintext per invocation, from memory, to
/// <see cref="Stream.Null"/>, so that the figure is the cipher and the stream plumbing, not a disk.
/// The single-file cases run on one thread; the four-file cases run 4 × 256 MiB with
/// <c>Parallel.For</c> at two degrees of parallelism, to show how independent files scale with cores.
/// </summary>
[Config(typeof(Crypt4ghBenchConfig))]
public class Crypt4ghBenchmark
{
    public const long TotalBytes = 1L << 30;
    private const int Files = 4;
    private const int FileBytes = (int)(TotalBytes / Files);

    private Crypt4ghPrivateKey _reader = null!;
    private Crypt4ghPublicKey[] _recipients = null!;
    private byte[] _plaintext = null!;
    private ArraySegment<byte> _ciphertext;
    private ArraySegment<byte>[] _fileCiphertexts = null!;

    [GlobalSetup(Targets = [nameof(Encrypt1GiB), nameof(EncryptFourFilesInParallel)])]
    public void SetupEncrypt() => CreatePlaintext();

    [GlobalSetup(Target = nameof(Decrypt1GiB))]
    public void SetupDecrypt()
    {
        CreatePlaintext();
        _ciphertext = EncryptToArray(_plaintext, 0, _plaintext.Length);
    }

    [GlobalSetup(Target = nameof(DecryptFourFilesInParallel))]
    public void SetupDecryptFiles()
    {
        CreatePlaintext();
        _fileCiphertexts = [.. Enumerable.Range(0, Files).Select(i => EncryptToArray(_plaintext, i * FileBytes, FileBytes))];
    }

    [GlobalCleanup]
    public void Cleanup() => _reader.Dispose();

    [Benchmark(Description = "encrypt 1 GiB, 1 thread")]
    public void Encrypt1GiB() =>
        Crypt4ghFile.Encrypt(new MemoryStream(_plaintext, writable: false), Stream.Null, _recipients);

    [Benchmark(Description = "decrypt 1 GiB, 1 thread")]
    public void Decrypt1GiB()
    {
        using var plaintext = new Crypt4ghDecryptingStream(Source(_ciphertext), _reader);
        plaintext.CopyTo(Stream.Null);
    }

    [Benchmark(Description = "encrypt 4 x 256 MiB, 2 threads")]
    public void EncryptFourFilesInParallel() =>
        Parallel.For(0, Files, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            Crypt4ghFile.Encrypt(new MemoryStream(_plaintext, i * FileBytes, FileBytes, writable: false), Stream.Null, _recipients));

    [Benchmark(Description = "decrypt 4 x 256 MiB, 2 threads")]
    public void DecryptFourFilesInParallel() =>
        Parallel.For(0, Files, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            using var plaintext = new Crypt4ghDecryptingStream(Source(_fileCiphertexts[i]), _reader);
            plaintext.CopyTo(Stream.Null);
        });

    private void CreatePlaintext()
    {
        _reader = Crypt4ghPrivateKey.Generate();
        _recipients = [_reader.PublicKey];

        // Random bytes, though ChaCha20's speed does not depend on them; Random.Shared is fast enough for 1 GiB.
        _plaintext = GC.AllocateUninitializedArray<byte>((int)TotalBytes);
        Random.Shared.NextBytes(_plaintext);
    }

    private static MemoryStream Source(ArraySegment<byte> data) => new(data.Array!, data.Offset, data.Count, writable: false);

    private ArraySegment<byte> EncryptToArray(byte[] source, int offset, int count)
    {
        var segments = (count + Crypt4ghFile.SegmentSize - 1) / Crypt4ghFile.SegmentSize;
        using var output = new MemoryStream(count + (segments * (Crypt4ghFile.CipherSegmentSize - Crypt4ghFile.SegmentSize)) + 4096);
        Crypt4ghFile.Encrypt(new MemoryStream(source, offset, count, writable: false), output, _recipients);
        return new ArraySegment<byte>(output.GetBuffer(), 0, (int)output.Length); // no second GiB for a copy
    }
}

/// <summary>One launch, two warm-up and five measured invocations of 1 GiB each: about a minute and a half for all four cases.</summary>
public sealed class Crypt4ghBenchConfig : ManualConfig
{
    public Crypt4ghBenchConfig()
    {
        AddJob(BenchConfig.ShortJob);
        AddColumn(new ThroughputColumn(best: false), new ThroughputColumn(best: true));
        AddColumn(StatisticColumn.Min, StatisticColumn.Max);

        // Allocated bytes per 1 GiB operation: shows that memory stays flat whatever the size.
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}

/// <summary>Plaintext throughput in GB/s (10^9 bytes per second) of a benchmark that processes <see cref="Crypt4ghBenchmark.TotalBytes"/> per invocation.</summary>
public sealed class ThroughputColumn(bool best) : IColumn
{
    public string Id => best ? "Crypt4ghThroughputBest" : "Crypt4ghThroughputMean";

    public string ColumnName => best ? "GB/s (best)" : "GB/s (mean)";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => best ? 1 : 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => best
        ? "Plaintext GB/s (10^9 bytes/s) of the fastest iteration"
        : "Plaintext GB/s (10^9 bytes/s) at the mean time";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        if (statistics is null)
        {
            return "-";
        }

        var nanoseconds = best ? statistics.Min : statistics.Mean;
        return (Crypt4ghBenchmark.TotalBytes / nanoseconds).ToString("0.00", CultureInfo.InvariantCulture); // bytes per ns = GB/s
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
