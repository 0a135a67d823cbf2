using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace OpenSpe.Disclosure.Tests;

/// <summary>
/// Real images (the same bytes as the server's preview tests: PNG, JPEG and WebP 2×2 drawn on a canvas and encoded by
/// Chromium, GIF 1×1) and the ways a researcher could change them: bytes after the end marker, a chunk or segment inserted
/// before it, a PNG encoded here from raw scanlines.
/// </summary>
internal static class TestImages
{
    public static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAGElEQVR4AWL6ukz5P3fM2v9MYtu6GEAAAAAA///xoECBAAAABklEQVQDAEoWBiughlIzAAAAAElFTkSuQmCC");

    public static readonly byte[] Jpeg = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAARCAACAAIDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAj/xAAbEAADAQEAAwAAAAAAAAAAAAABAgMABBEhQf/EABUBAQEAAAAAAAAAAAAAAAAAAAcI/8QAHREAAAUFAAAAAAAAAAAAAAAAAAECBLEDMzRxcv/aAAwDAQACEQMRAD8Anvp6a9nRW96ve9WL0rRizOxPkkk+ySfuZmoVpjU+SgBTi8vZyP/Z");

    public static readonly byte[] Gif = Convert.FromBase64String("R0lGODlhAQABAIAAAAtcrf///ywAAAAAAQABAAACAkQBADs=");

    public static readonly byte[] Webp = Convert.FromBase64String("UklGRiIAAABXRUJQVlA4TBYAAAAvAUAAAA9wJa4vqN+udf6jBRMQ0f8I");

    /// <summary>The image with <paramref name="tail"/> appended after its end marker.</summary>
    public static byte[] Append(byte[] image, string tail) => [.. image, .. Encoding.UTF8.GetBytes(tail)];

    /// <summary>The PNG with a chunk of <paramref name="type"/> inserted before IEND (the last 12 bytes), CRC computed.</summary>
    public static byte[] WithChunk(byte[] png, string type, byte[] data) => [.. png[..^12], .. Chunk(type, data), .. png[^12..]];

    /// <summary>A zTXt chunk's data: keyword, NUL, method 0, the zlib-compressed text.</summary>
    public static byte[] ZText(string keyword, string text) => [.. Encoding.Latin1.GetBytes(keyword), 0, 0, .. Zlib(Encoding.Latin1.GetBytes(text))];

    /// <summary>The JPEG with a COM segment holding <paramref name="comment"/> right after SOI.</summary>
    public static byte[] WithJpegComment(string comment)
    {
        var text = Encoding.UTF8.GetBytes(comment);
        return [.. Jpeg[..2], 0xFF, 0xFE, (byte)((text.Length + 2) >> 8), (byte)(text.Length + 2), .. text, .. Jpeg[2..]];
    }

    /// <summary>The GIF with a comment extension (one sub-block) holding <paramref name="comment"/> before its trailer.</summary>
    public static byte[] WithGifComment(string comment)
    {
        var text = Encoding.UTF8.GetBytes(comment);
        return [.. Gif[..^1], 0x21, 0xFE, (byte)text.Length, .. text, 0, 0x3B];
    }

    /// <summary>
    /// An 8-bit greyscale PNG of <paramref name="width"/> × <paramref name="height"/> whose pixel data holds
    /// <paramref name="rows"/> scanlines (filter byte 0, then the row): more rows than the height is data no viewer shows.
    /// </summary>
    public static byte[] GreyPng(int width, int height, int rows)
    {
        var raw = new byte[rows * (width + 1)];
        for (var i = 0; i < raw.Length; i++)
        {
            raw[i] = i % (width + 1) == 0 ? (byte)0 : (byte)(i * 37);
        }

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        return [.. Png[..8], .. Chunk("IHDR", header), .. Chunk("IDAT", Zlib(raw)), .. Chunk("IEND", [])];
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        var typed = (byte[])[.. Encoding.ASCII.GetBytes(type), .. data];
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        typed.CopyTo(chunk, 4);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(typed));
        return chunk;
    }

    private static byte[] Zlib(byte[] data)
    {
        using var target = new MemoryStream();
        using (var zlib = new ZLibStream(target, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(data);
        }

        return target.ToArray();
    }

    /// <summary>CRC-32 (ISO 3309, the PNG chunk CRC), bit by bit: a test has no need of a table.</summary>
    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
