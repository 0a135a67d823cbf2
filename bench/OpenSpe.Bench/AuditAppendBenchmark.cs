using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;

namespace OpenSpe.Bench;

/// <summary>
/// Records per second through the real <see cref="AuditWriter"/>: group commit, one durable
/// SQLite transaction (WAL, synchronous=FULL) per batch, checkpoints every 1,000 records.
/// Target: at least 20,000 records/s.
/// </summary>
[Config(typeof(BenchConfig))]
public class AuditAppendBenchmark : IDisposable
{
    /// <summary>Appends per invocation in the fire-all variant.</summary>
    public const int Records = 20_000;

    /// <summary>Concurrent producers in the sequential-producer variant.</summary>
    public const int Producers = 64;

    /// <summary>Appends per producer: 64 x 312 = 19,968 records per invocation.</summary>
    public const int PerProducer = 312;

    private BenchDatabase? _database;
    private AuditSigningKey? _key;
    private AuditWriter? _writer;
    private AuditEntry[] _entries = [];

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _database = await BenchDatabase.CreateAsync();
        _key = AuditSigningKey.Generate();
        var options = Options.Create(new AuditOptions());
        _writer = new AuditWriter(new AuditStore(_database.Database), _key, options, TimeProvider.System, NullLogger<AuditWriter>.Instance);
        await _writer.StartAsync();
        _entries = Enumerable.Range(0, Records).Select(BenchEntries.Request).ToArray();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_writer is not null)
        {
            Console.WriteLine($"// appended {_writer.HeadSequence} records in {_writer.CommitCount} commits ({(double)_writer.HeadSequence / Math.Max(1, _writer.CommitCount):F1} records/commit)");
            await _writer.DisposeAsync();
            _writer = null;
        }

        Dispose();
    }

    public void Dispose()
    {
        // The writer needs an async stop (GlobalCleanup); here only what is left.
        _key?.Dispose();
        _key = null;
        _database?.Dispose();
        _database = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>20,000 concurrent appends: fire all, await all.</summary>
    [Benchmark(OperationsPerInvoke = Records)]
    public async Task AppendConcurrent()
    {
        var writer = _writer!;
        var tasks = new Task<long>[Records];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = writer.AppendAsync(_entries[i]);
        }

        await Task.WhenAll(tasks);
    }

    /// <summary>64 producers, each appending and awaiting durability before its next append (like 64 busy request threads).</summary>
    [Benchmark(OperationsPerInvoke = Producers * PerProducer)]
    public async Task Append64SequentialProducers()
    {
        var writer = _writer!;
        var producers = new Task[Producers];
        for (var p = 0; p < Producers; p++)
        {
            var offset = p * PerProducer;
            producers[p] = Task.Run(async () =>
            {
                for (var i = 0; i < PerProducer; i++)
                {
                    await writer.AppendAsync(_entries[offset + i]);
                }
            });
        }

        await Task.WhenAll(producers);
    }
}
