using System.Security.Cryptography;
using OpenSpe.IO;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>The staging writer mixes O_DIRECT blocks and normal writes; the file must hold exactly the bytes appended.</summary>
public sealed class StagingFileWriterTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public void Appends_of_any_size_at_any_offset_land_byte_for_byte_and_survive_a_reopen()
    {
        var path = _temp.File("upload.part");
        File.WriteAllBytes(path, []);
        var content = RandomNumberGenerator.GetBytes((3 << 20) + 12_345);
        var sizes = new[] { 1, 4095, 4096, 4097, 1 << 20, (1 << 20) + 3, 100_000, 7 };
        var offset = 0;
        var round = 0;
        while (offset < content.Length)
        {
            // A new writer per "PATCH", as the endpoint opens one, resuming at an unaligned offset.
            using var writer = StagingFileWriter.Open(path, offset);
            for (var i = 0; i < 3 && offset < content.Length; i++)
            {
                var size = Math.Min(sizes[(round + i) % sizes.Length], content.Length - offset);
                writer.Write(content.AsSpan(offset, size));
                offset += size;
            }

            writer.FlushToDisk();
            Assert.Equal(offset, writer.Position);
            round++;
        }

        Assert.Equal(content, File.ReadAllBytes(path));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public void Bodies_in_aligned_blocks_are_written_from_the_block_itself_byte_for_byte()
    {
        var path = _temp.File("upload.part");
        File.WriteAllBytes(path, []);
        var content = RandomNumberGenerator.GetBytes((5 << 20) / 2 + 777);
        var pool = new AlignedBlockPool(retained: 2);
        var offset = 0;
        using (var writer = StagingFileWriter.Open(path, 0))
        {
            // As the PATCH handler does: each block filled from the body, then written as it is; the last one is short.
            while (offset < content.Length)
            {
                var block = pool.Rent();
                var size = Math.Min(block.Length, content.Length - offset);
                content.AsSpan(offset, size).CopyTo(block.Span);
                writer.Write(block.Span[..size]);
                pool.Return(block);
                offset += size;
            }

            // And an aligned block written at an unaligned position (a resumed upload) takes the copying path.
            var tail = pool.Rent();
            tail.Span[..5000].Fill(0x5A);
            writer.Write(tail.Span[..5000]);
            writer.FlushToDisk();
        }

        var bytes = File.ReadAllBytes(path);
        Assert.Equal(content, bytes[..content.Length]);
        Assert.All(bytes[content.Length..], b => Assert.Equal(0x5A, b));
        Assert.Equal(content.Length + 5000, bytes.Length);
    }

    [Fact]
    public void The_block_pool_hands_out_aligned_blocks_and_keeps_only_as_many_free_ones_as_it_retains()
    {
        var pool = new AlignedBlockPool(retained: 1);
        var first = pool.Rent();
        var second = pool.Rent();
        Assert.Equal(AlignedBlockPool.BlockSize, first.Length);
        Assert.True(IsAligned(first) && IsAligned(second));

        pool.Return(first);
        pool.Return(second); // over the limit: dropped
        Assert.True(pool.Rent().Equals(first));
        Assert.False(pool.Rent().Equals(second));
        Assert.Throws<ArgumentException>(() => pool.Return(new byte[10]));
    }

    private static bool IsAligned(Memory<byte> block)
    {
        // The blocks are windows into pinned arrays, so the address is stable.
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(block, out var segment));
        return System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(segment.Array!, segment.Offset) % DirectIo.Alignment == 0;
    }

    [Fact]
    public void Open_cuts_off_bytes_that_were_never_acknowledged_and_Truncate_takes_back_a_refused_chunk()
    {
        var path = _temp.File("upload.part");
        File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(10_000));

        using (var writer = StagingFileWriter.Open(path, 8192))
        {
            writer.Write(new byte[5000]);
            writer.Truncate(8192);
            writer.Write(new byte[] { 1, 2, 3 });
            writer.FlushToDisk();
        }

        var bytes = File.ReadAllBytes(path);
        Assert.Equal(8195, bytes.Length);
        Assert.Equal(new byte[] { 1, 2, 3 }, bytes[8192..]);
    }

    public void Dispose() => _temp.Dispose();
}
