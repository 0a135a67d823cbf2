using System.Security.Cryptography;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Transfers;

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
