using System.Buffers.Binary;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>
/// Reading the header's bytes on every path (synchronous, asynchronous, sealed): a stream that ends early fails with
/// a truncation naming where it ended, the header's length is counted exactly, and the stream is left at the first
/// data segment. Streams hand out bytes in short reads, as pipes and sockets do.
/// </summary>
public sealed class HeaderReadingTests
{
    private static readonly Lazy<byte[]> Sample = new(() =>
        RoundTripTests.Encrypt(TestData.RandomBytes(1000, 5), [TestData.Project.PublicKey], new Crypt4ghEncryptionOptions { WriterKey = TestData.Holder }));

    private const int HeaderLength = 16 + 108;

    public static TheoryData<int, string> Truncations() => new()
    {
        { 0, "The Crypt4GH header ends after 0 bytes, inside its first 16." },
        { 8, "The Crypt4GH header ends after 8 bytes, inside its first 16." },
        { 15, "The Crypt4GH header ends after 15 bytes, inside its first 16." },
        { 16, "The Crypt4GH header ends inside header packet 0 of 1." }, // before the packet's length
        { 18, "The Crypt4GH header ends inside header packet 0 of 1." }, // inside the packet's length
        { 20, "The Crypt4GH header ends inside header packet 0 of 1." }, // right after the packet's length
        { HeaderLength - 1, "The Crypt4GH header ends inside header packet 0 of 1." },
    };

    [Theory]
    [MemberData(nameof(Truncations))]
    [Trait("Requirement", "SDR-3")]
    public async Task Truncated_header_is_reported_where_it_ends_on_every_read_path(int length, string message)
    {
        var file = Sample.Value[..length];

        var sync = Assert.Throws<Crypt4ghException>(() => Crypt4ghHeader.Read(Short(file), TestData.Project));
        var async = await Assert.ThrowsAsync<Crypt4ghException>(() => Crypt4ghHeader.ReadAsync(Short(file), TestData.Project, cancellationToken: TestContext.Current.CancellationToken));
        var sealedRead = await Assert.ThrowsAsync<Crypt4ghException>(() => Crypt4ghHeader.ReadSealedAsync(Short(file), TestContext.Current.CancellationToken));

        Assert.All([sync, async, sealedRead], e => Assert.Equal((Crypt4ghErrorKind.TruncatedHeader, message), (e.Kind, e.Message)));
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task A_packet_count_far_beyond_the_stream_is_a_truncation_not_an_allocation()
    {
        // Note: the count is attacker-controlled, so it must not size anything before the packets are there (a count above
        // Format.MaxHeaderPackets is refused outright: HeaderLimitTests).
        var file = Sample.Value[..HeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), (uint)Format.MaxHeaderPackets);
        const string message = "The Crypt4GH header ends inside header packet 1 of 4096.";

        var sync = Assert.Throws<Crypt4ghException>(() => Crypt4ghHeader.Read(Short(file), TestData.Project));
        var async = await Assert.ThrowsAsync<Crypt4ghException>(() => Crypt4ghHeader.ReadAsync(Short(file), TestData.Project, cancellationToken: TestContext.Current.CancellationToken));

        Assert.All([sync, async], e => Assert.Equal((Crypt4ghErrorKind.TruncatedHeader, message), (e.Kind, e.Message)));
    }

    [Fact]
    public async Task Header_length_is_counted_exactly_and_the_stream_left_at_the_first_segment_on_every_read_path()
    {
        // Three packets of different sizes (two data keys, one edit list), so a miscount of any of them shows.
        var header = Crypt4ghHeader.Create(2, [10, 20, 30]).Encrypt([TestData.Project.PublicKey]);
        var file = header.Concat(new byte[] { 0xAB, 0xCD }).ToArray();
        Assert.Equal(16 + (2 * 108) + (68 + 8 + (3 * 8)), header.Length); // a packet is 68 bytes around its payload

        using var syncInput = new MemoryStream(file);
        var sync = Crypt4ghHeader.Read(syncInput, TestData.Project);
        using var asyncInput = new MemoryStream(file);
        var async = await Crypt4ghHeader.ReadAsync(asyncInput, TestData.Project, cancellationToken: TestContext.Current.CancellationToken);
        using var sealedInput = new MemoryStream(file);
        var sealedHeader = await Crypt4ghHeader.ReadSealedAsync(sealedInput, TestContext.Current.CancellationToken);

        Assert.Equal(header.Length, sync.EncodedLength);
        Assert.Equal(header.Length, async.EncodedLength);
        Assert.Equal(header.Length, sealedHeader.Length);
        Assert.All([syncInput, asyncInput, sealedInput], s => Assert.Equal(header.Length, s.Position));
        var opened = sealedHeader.Open(TestData.Project);
        Assert.Equal(header.Length, opened.EncodedLength);
        Assert.Equal([10L, 20L, 30L], opened.EditList);
        Assert.Equal(sync.DataKeys.Select(k => k.ToArray()), opened.DataKeys.Select(k => k.ToArray()));
        Assert.Equal(sync.DataKeys.Select(k => k.ToArray()), async.DataKeys.Select(k => k.ToArray()));
    }

    [Fact]
    public async Task Reencryption_reads_the_header_on_both_paths_and_leaves_the_stream_at_the_first_segment()
    {
        var file = Sample.Value;

        using var syncInput = new MemoryStream(file);
        var sync = Crypt4ghHeader.Reencrypt(syncInput, TestData.Project, [TestData.Researcher.PublicKey]);
        using var asyncInput = new MemoryStream(file);
        var async = await Crypt4ghHeader.ReencryptAsync(asyncInput, TestData.Project, [TestData.Researcher.PublicKey], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal((long)HeaderLength, syncInput.Position);
        Assert.Equal((long)HeaderLength, asyncInput.Position);
        using var original = new MemoryStream(file);
        var key = Crypt4ghHeader.Read(original, TestData.Project).DataKeys[0].ToArray();
        foreach (var header in new[] { sync, async })
        {
            using var input = new MemoryStream(header);
            Assert.Equal(key, Crypt4ghHeader.Read(input, TestData.Researcher).DataKeys[0].ToArray());
        }
    }

    public static TheoryData<string, int> AsyncReads() => new()
    {
        { "read", 0 }, { "read", 1 }, { "read", 2 },
        { "sealed", 0 }, { "sealed", 1 }, { "sealed", 2 },
        { "reencrypt", 0 }, { "reencrypt", 1 }, { "reencrypt", 2 },
    };

    [Theory]
    [MemberData(nameof(AsyncReads))]
    public async Task Asynchronous_header_reads_never_resume_on_the_callers_synchronization_context(string method, int asyncRead)
    {
        // A library that resumed on its caller's context would deadlock a caller that blocks on it under a
        // single-threaded context (a UI thread, classic ASP.NET). The stream completes one read (preamble, packet
        // length or packet body) asynchronously, so the await on it is where a captured context would be used.
        var context = new CountingContext();
        var previous = SynchronizationContext.Current;
        Task task;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            var input = new AsyncAtReadStream(Sample.Value, asyncRead);
            task = method switch
            {
                "read" => Crypt4ghHeader.ReadAsync(input, TestData.Project),
                "sealed" => Crypt4ghHeader.ReadSealedAsync(input),
                _ => Crypt4ghHeader.ReencryptAsync(input, TestData.Project, [TestData.Researcher.PublicKey]),
            };
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        await task;

        Assert.Equal(0, context.Posts);
    }

    /// <summary>A stream that hands out at most a few bytes per read and cannot seek.</summary>
    private static ForwardOnlyStream Short(byte[] bytes) => new(new TrickleStream(bytes));

    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes, writable: false)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 3));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 3)]);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, 3), cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 3)], cancellationToken);
    }

    /// <summary>Completes the read with index <paramref name="asyncRead"/> later, on the thread pool; the others at once.</summary>
    private sealed class AsyncAtReadStream(byte[] bytes, int asyncRead) : MemoryStream(bytes, writable: false)
    {
        private int _reads;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_reads++ == asyncRead)
            {
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }

            return await base.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Counts the continuations posted to it, and runs them on the thread pool.</summary>
    private sealed class CountingContext : SynchronizationContext
    {
        private int _posts;

        public int Posts => Volatile.Read(ref _posts);

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            ThreadPool.QueueUserWorkItem(_ => d(state));
        }
    }
}
