using OpenSpe.Core.Audit;

namespace OpenSpe.Core.Tests.Audit;

/// <summary>
/// Range-parallel verification: how the log is cut into ranges, and what it reports when the records the caller
/// counted are not all there (EHDSR-6). Agreement with the single pass is checked by every <see cref="TestChain.Verify"/>.
/// </summary>
public sealed class AuditParallelVerificationTests
{
    [Fact]
    public void Fewer_than_one_range_or_record_per_range_is_refused()
    {
        using var chain = TestChain.Create(10);
        var verifier = new AuditChainVerifier(chain.Key);
        var source = new InMemoryRowSource(chain.Rows);

        var noRanges = Assert.Throws<ArgumentOutOfRangeException>(() => verifier.VerifyInParallel(source, chain.Checkpoints, 10, ranges: 0, minimumRecordsPerRange: 1));
        var emptyRanges = Assert.Throws<ArgumentOutOfRangeException>(() => verifier.VerifyInParallel(source, chain.Checkpoints, 10, ranges: 2, minimumRecordsPerRange: 0));

        Assert.Equal("ranges", noRanges.ParamName);
        Assert.Equal("minimumRecordsPerRange", emptyRanges.ParamName);
    }

    [Theory]
    [InlineData(4, 30, new long[] { 0, 33, 66, 100 })] // 100 / 30: three ranges, none under 30 records
    [InlineData(4, 10, new long[] { 0, 25, 50, 75, 100 })] // capped at four ranges
    [InlineData(4, 200, new long[] { 0, 100 })] // fewer records than one range: a single range
    [InlineData(1, 1, new long[] { 0, 100 })]
    public void The_log_is_cut_into_contiguous_ranges_of_at_least_the_minimum_size(int ranges, long minimum, long[] borders)
    {
        using var chain = TestChain.Create(100);
        var source = new RecordingRowSource(new InMemoryRowSource(chain.Rows));

        var result = new AuditChainVerifier(chain.Key).VerifyInParallel(source, chain.Checkpoints, 100, ranges, minimum);

        Assert.True(result.Valid, result.Message);
        Assert.Equal(100, result.RecordsChecked);
        var expected = borders.Zip(borders.Skip(1), (after, through) => (after == 0 ? long.MinValue : after, through)).ToList();
        Assert.Equal(expected, source.Opened.OrderBy(r => r.Through).ToList());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Records_counted_by_the_caller_but_gone_when_read_are_reported_missing()
    {
        // The caller read lastSequence = 40, then records 26..40 were removed before the ranges were read.
        using var chain = TestChain.Create(25);
        var source = new InMemoryRowSource(chain.Rows);

        var result = new AuditChainVerifier(chain.Key).VerifyInParallel(source, chain.Checkpoints, 40, ranges: 4, minimumRecordsPerRange: 10);

        Assert.False(result.Valid);
        Assert.Equal((AuditVerificationProblems.RecordMissing, 26L), (result.Problem, result.FirstBadSequence));
        Assert.Equal("Record 26 is missing.", result.Message);
        Assert.Equal(25, result.RecordsChecked);
        Assert.Equal(1, result.FirstSequence);
        Assert.Equal(25, result.LastSequence); // the last record read, although the last range read none
    }

    /// <summary>Remembers the range of every cursor opened.</summary>
    private sealed class RecordingRowSource(IAuditRowSource inner) : IAuditRowSource
    {
        private readonly Lock _lock = new();

        public List<(long After, long Through)> Opened { get; } = [];

        public IAuditRowCursor Open(long afterSequence, long throughSequence)
        {
            lock (_lock)
            {
                Opened.Add((afterSequence, throughSequence));
            }

            return inner.Open(afterSequence, throughSequence);
        }

        public byte[]? StoredHash(long sequence) => inner.StoredHash(sequence);
    }
}
