using System.Text;
using OpenSpe.Disclosure.Files;

namespace OpenSpe.Disclosure.Tests;

/// <summary>
/// The streaming sniffer (what the import endpoint judges a file with) gives the same kind as the whole-file one, whatever
/// the sizes of the reads it gets, a character split between two reads included.
/// </summary>
[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "SPER-4")]
public sealed class StreamingSnifferTests
{
    public static TheoryData<string, byte[]> Files()
    {
        var large = new byte[(200 * 1024) + 3];
        Array.Fill(large, (byte)'x');
        var lateNul = (byte[])large.Clone();
        lateNul[^2] = 0;
        var lateBadByte = (byte[])large.Clone();
        lateBadByte[150_000] = 0xC0;
        var truncatedAtEnd = large.Concat(new byte[] { 0xE2, 0x82 }).ToArray();
        // A three-byte character (€) whose bytes straddle the first 64 KiB block boundary.
        var straddling = new byte[64 * 1024 + 10];
        Array.Fill(straddling, (byte)'a');
        "€"u8.CopyTo(straddling.AsSpan((64 * 1024) - 1));
        var tar = new byte[1024];
        "ustar"u8.CopyTo(tar.AsSpan(257));

        return new TheoryData<string, byte[]>
        {
            { "empty", [] },
            { "ascii", "a,b\n1,2\n"u8.ToArray() },
            { "multilingual", Encoding.UTF8.GetBytes("nimi,määrä\nÅsa,3\n東京,4\n😀,5\n") },
            { "large text", large },
            { "NUL in the last block", lateNul },
            { "malformed byte deep in the file", lateBadByte },
            { "character cut off at the end", truncatedAtEnd },
            { "character across the block boundary", straddling },
            { "overlong encoding", [0x41, 0xC0, 0xAF, 0x41] },
            { "surrogate encoded", [0x41, 0xED, 0xA0, 0x80] },
            { "png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0] },
            { "elf", [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1] },
            { "tar", tar },
            { "gzip", [0x1F, 0x8B, 8, 0] },
        };
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Streaming_AgreesWithWholeFile_WhateverTheReadSizes(string name, byte[] content)
    {
        var expected = ContentSniffer.Detect(content);
        foreach (var chunk in new[] { 1, 2, 3, 7, 4096, 65_535, 1 << 20 })
        {
            await using var stream = new ChunkedStream(content, chunk);
            Assert.True(expected == await ContentSniffer.DetectAsync(stream, TestContext.Current.CancellationToken), $"{name}, reads of {chunk} bytes");
        }
    }

    [Fact]
    public async Task Streaming_KnowsTextFromBinaryAfterTheFirstBlock()
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("id,value\n1,2\n", 20_000)));
        var withBinaryTail = text.Concat(new byte[] { 0x00, 0xFF, 0xFE }).ToArray();

        await using var clean = new MemoryStream(text);
        await using var smuggling = new MemoryStream(withBinaryTail);
        Assert.Equal(ContentKind.Text, await ContentSniffer.DetectAsync(clean, TestContext.Current.CancellationToken));
        Assert.Equal(ContentKind.UnknownBinary, await ContentSniffer.DetectAsync(smuggling, TestContext.Current.CancellationToken));
    }

    /// <summary>Gives at most <paramref name="chunk"/> bytes per read, as a network or a spool file may.</summary>
    private sealed class ChunkedStream(byte[] content, int chunk) : MemoryStream(content)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, chunk), cancellationToken);
    }
}
