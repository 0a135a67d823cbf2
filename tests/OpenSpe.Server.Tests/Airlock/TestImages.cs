using System.Text;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// Small valid images for the preview tests (each decoded by Chromium when these bytes were made: PNG, JPEG and WebP 2x2
/// drawn on a canvas, the JPEG without its colour profile and the WebP as a bare lossless chunk; GIF 1x1) and the shell
/// that writes bytes into <c>/outputs</c> from a sandbox job.
/// </summary>
internal static class TestImages
{
    public static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAGElEQVR4AWL6ukz5P3fM2v9MYtu6GEAAAAAA///xoECBAAAABklEQVQDAEoWBiughlIzAAAAAElFTkSuQmCC");

    public static readonly byte[] Jpeg = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAARCAACAAIDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAj/xAAbEAADAQEAAwAAAAAAAAAAAAABAgMABBEhQf/EABUBAQEAAAAAAAAAAAAAAAAAAAcI/8QAHREAAAUFAAAAAAAAAAAAAAAAAAECBLEDMzRxcv/aAAwDAQACEQMRAD8Anvp6a9nRW96ve9WL0rRizOxPkkk+ySfuZmoVpjU+SgBTi8vZyP/Z");

    public static readonly byte[] Gif = Convert.FromBase64String("R0lGODlhAQABAIAAAAtcrf///ywAAAAAAQABAAACAkQBADs=");

    public static readonly byte[] Webp = Convert.FromBase64String("UklGRiIAAABXRUJQVlA4TBYAAAAvAUAAAA9wJa4vqN+udf6jBRMQ0f8I");

    /// <summary>A drawing with a script in it: SVG is a document, never shown as an image preview.</summary>
    public static readonly byte[] Svg = Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"><script>alert(1)</script></svg>\n");

    /// <summary>A shell command that writes <paramref name="bytes"/> to <c>/outputs/<paramref name="name"/></c> (printf with octal escapes: any byte survives).</summary>
    public static string Write(string name, byte[] bytes) =>
        $"printf '{string.Concat(bytes.Select(b => "\\" + Convert.ToString(b, 8).PadLeft(3, '0')))}' > /outputs/{name}";
}
