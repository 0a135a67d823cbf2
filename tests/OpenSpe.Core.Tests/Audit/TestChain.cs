using OpenSpe.Core.Audit;

namespace OpenSpe.Core.Tests.Audit;

/// <summary>
/// An in-memory audit chain built exactly as the writer builds it (<see cref="AuditChainHasher"/>
/// plus <see cref="AuditSigningKey"/> checkpoints), so verifier tests need no database.
/// </summary>
internal sealed class TestChain : IDisposable
{
    /// <summary>2026-01-01T00:00:00Z in microseconds since the epoch.</summary>
    public const long BaseMicros = 1_767_225_600_000_000;

    private readonly AuditChainHasher _hasher = new();

    public TestChain(int checkpointEvery = 10)
    {
        CheckpointEvery = checkpointEvery;
    }

    public int CheckpointEvery { get; }

    public AuditSigningKey Key { get; } = AuditSigningKey.Generate();

    /// <summary>The verifier's "now": years after the chain's records unless a test sets it.</summary>
    public DateTimeOffset Now { get; set; } = AuditTime.FromMicros(BaseMicros).AddYears(5);

    public List<AuditRow> Rows { get; } = [];

    public List<AuditCheckpoint> Checkpoints { get; } = [];

    /// <summary>Sequence and hash of the chain head (genesis when empty).</summary>
    public long HeadSequence { get; private set; }

    public byte[] HeadHash { get; private set; } = AuditCanonicalForm.GenesisHash.ToArray();

    public static TestChain Create(int records, int checkpointEvery = 10)
    {
        var chain = new TestChain(checkpointEvery);
        chain.Append(records);
        return chain;
    }

    public static AuditRow NewRow(long sequence) => new()
    {
        Sequence = sequence,
        TimestampMicros = BaseMicros + (sequence * 1_000),
        ActorSubject = "sub-" + sequence,
        ActorUsername = "user" + sequence,
        ActorRoles = "researcher",
        SourceIp = "127.0.0.1",
        UserAgent = "tests",
        Action = "test.action",
        ResourceType = "thing",
        ResourceId = sequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ProjectId = "project-1",
        Outcome = "success",
        HttpStatus = 200,
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        DetailsJson = "{\"i\":\"" + sequence.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"}",
    };

    /// <summary>Appends rows, signing a periodic checkpoint every <see cref="CheckpointEvery"/> records.</summary>
    public void Append(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var row = NewRow(HeadSequence + 1);
            var hash = new byte[AuditCanonicalForm.HashSize];
            _hasher.Compute(row, HeadHash, hash);
            row.Hash = hash;
            Rows.Add(row);
            HeadSequence = row.Sequence;
            HeadHash = hash;
            if (CheckpointEvery > 0 && HeadSequence % CheckpointEvery == 0)
            {
                Sign(AuditCheckpointKinds.Periodic);
            }
        }
    }

    /// <summary>Signs the current head.</summary>
    public AuditCheckpoint Sign(string kind, AuditSigningKey? key = null)
    {
        var checkpoint = (key ?? Key).Sign(HeadSequence, HeadHash, BaseMicros + (HeadSequence * 1_000) + 1, kind);
        Checkpoints.Add(checkpoint);
        return checkpoint;
    }

    public AuditRow Row(long sequence) => Rows.Single(r => r.Sequence == sequence);

    /// <summary>
    /// Removes records up to and including <paramref name="anchor"/> and stores a signed purge
    /// checkpoint over the last removed record, as <c>AuditStore.PurgeAsync</c> does.
    /// </summary>
    public AuditCheckpoint Purge(long anchor, AuditSigningKey? key = null, long? atMicros = null)
    {
        var hash = Row(anchor).Hash;
        Rows.RemoveAll(r => r.Sequence <= anchor);
        var checkpoint = (key ?? Key).Sign(anchor, hash, atMicros ?? BaseMicros + (HeadSequence * 1_000) + 2, AuditCheckpointKinds.Purge);
        Checkpoints.Add(checkpoint);
        return checkpoint;
    }

    /// <summary>What an attacker with write access can do: recompute every hash from <paramref name="fromSequence"/> on.</summary>
    public void Rehash(long fromSequence)
    {
        var previous = Rows.Where(r => r.Sequence < fromSequence).Select(r => r.Hash).LastOrDefault() ?? AuditCanonicalForm.GenesisHash.ToArray();
        foreach (var row in Rows.Where(r => r.Sequence >= fromSequence))
        {
            var hash = new byte[AuditCanonicalForm.HashSize];
            _hasher.Compute(row, previous, hash);
            row.Hash = hash;
            previous = hash;
        }
    }

    /// <summary>
    /// Verifies in one pass and returns that result, after checking that range-parallel verification
    /// of the same rows (ordered as a database returns them) agrees, report text included, with ranges of several sizes.
    /// </summary>
    public AuditVerificationResult Verify(IEnumerable<AuditRow>? rows = null, IReadOnlyList<AuditCheckpoint>? checkpoints = null, AuditSigningKey? trusted = null,
        IReadOnlyList<AuditWitnessedCheckpoint>? witnessed = null)
    {
        var list = (rows ?? Rows).ToList();
        var verifier = new AuditChainVerifier(trusted ?? Key, new FixedClock(Now));
        var result = verifier.Verify(Streamed(list), checkpoints ?? Checkpoints, witnessed);
        AssertRangesAgree(verifier, list, checkpoints ?? Checkpoints, witnessed);
        return result;
    }

    private static void AssertRangesAgree(AuditChainVerifier verifier, List<AuditRow> rows, IReadOnlyList<AuditCheckpoint> checkpoints, IReadOnlyList<AuditWitnessedCheckpoint>? witnessed)
    {
        var source = new InMemoryRowSource(rows);
        var expected = verifier.Verify(Streamed(source.Sorted), checkpoints, witnessed);
        var last = rows.Count == 0 ? 0 : rows.Max(r => r.Sequence);
        foreach (var perRange in new long[] { 1, 3, 7 })
        {
            var actual = verifier.VerifyInParallel(source, checkpoints, last, ranges: 4, perRange, witnessed);
            Assert.True(
                (expected.Valid, expected.FirstBadSequence, expected.Problem, expected.Message, expected.RecordsChecked, expected.FirstSequence, expected.LastSequence)
                == (actual.Valid, actual.FirstBadSequence, actual.Problem, actual.Message, actual.RecordsChecked, actual.FirstSequence, actual.LastSequence),
                $"Ranges of {perRange}: expected {expected} but got {actual}");
        }
    }

    /// <summary>Yields copies into one reused instance, as <c>AuditStore.ReadRows</c> does.</summary>
    public static IEnumerable<AuditRow> Streamed(IEnumerable<AuditRow> rows)
    {
        var reused = new AuditRow();
        foreach (var row in rows)
        {
            reused.Sequence = row.Sequence;
            reused.TimestampMicros = row.TimestampMicros;
            reused.ActorSubject = row.ActorSubject;
            reused.ActorUsername = row.ActorUsername;
            reused.ActorRoles = row.ActorRoles;
            reused.ActorClientId = row.ActorClientId;
            reused.SourceIp = row.SourceIp;
            reused.UserAgent = row.UserAgent;
            reused.Action = row.Action;
            reused.ResourceType = row.ResourceType;
            reused.ResourceId = row.ResourceId;
            reused.ProjectId = row.ProjectId;
            reused.Outcome = row.Outcome;
            reused.HttpStatus = row.HttpStatus;
            reused.TraceId = row.TraceId;
            reused.DetailsJson = row.DetailsJson;
            reused.Hash = row.Hash;
            yield return reused;
        }
    }

    public void Dispose()
    {
        _hasher.Dispose();
        Key.Dispose();
    }
}

/// <summary>Rows as a database holds them (one per sequence, read in sequence order), for range-parallel verification.</summary>
internal sealed class InMemoryRowSource(List<AuditRow> rows) : IAuditRowSource
{
    public List<AuditRow> Sorted { get; } = [.. rows.OrderBy(r => r.Sequence)];

    public IAuditRowCursor Open(long afterSequence, long throughSequence) =>
        new AuditRowEnumerableCursor(TestChain.Streamed(Sorted.Where(r => r.Sequence > afterSequence && r.Sequence <= throughSequence)));

    public byte[]? StoredHash(long sequence)
    {
        var matches = Sorted.Where(r => r.Sequence == sequence).ToList();
        return matches.Count == 1 ? matches[0].Hash : null;
    }
}

/// <summary>A clock that always reads one time.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
