using System.Text;
using OpenSpe.Server.Airlock;

namespace OpenSpe.Server.UnitTests.Airlock;

/// <summary>Which bytes are a previewable image: the four raster signatures whole, nothing that only resembles one.</summary>
public sealed class PreviewImagesTests
{
    [Theory]
    [InlineData("89504E470D0A1A0A0000000D49484452", "image/png")]
    [InlineData("FFD8FFE000104A464946", "image/jpeg")]
    [InlineData("FFD8FFDB", "image/jpeg")]
    [InlineData("474946383761010001", "image/gif")]
    [InlineData("474946383961010001", "image/gif")]
    [InlineData("524946462200000057454250565038", "image/webp")]
    public void A_signature_names_its_format(string hex, string type) => Assert.Equal(type, PreviewImages.Detect(Convert.FromHexString(hex)));

    [Theory]
    [InlineData("89504E470D0A1A")] // a PNG signature cut short
    [InlineData("89504E470D0A1A0B")] // one byte off
    [InlineData("FFD8")] // half a JPEG start
    [InlineData("474946383861")] // GIF88a is no GIF
    [InlineData("524946462200000057415645")] // RIFF, but WAVE
    [InlineData("52494646220000005745")] // RIFF with WEBP cut short
    [InlineData("")]
    public void Anything_else_is_no_image(string hex) => Assert.Null(PreviewImages.Detect(Convert.FromHexString(hex)));

    [Theory]
    [InlineData("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>")]
    [InlineData("<?xml version=\"1.0\"?><svg/>")]
    [InlineData("<!DOCTYPE html><img src=x onerror=alert(1)>")]
    [InlineData("group,count\na,12\n")]
    public void Text_is_no_image(string text) => Assert.Null(PreviewImages.Detect(Encoding.UTF8.GetBytes(text)));

    [Theory]
    [InlineData("figure.png", "image/png")]
    [InlineData("FIGURE.PNG", "image/png")]
    [InlineData("photo.jpg", "image/jpeg")]
    [InlineData("photo.jpeg", "image/jpeg")]
    [InlineData("anim.gif", "image/gif")]
    [InlineData("plot.webp", "image/webp")]
    [InlineData("drawing.svg", null)]
    [InlineData("figure.png.svg", null)]
    [InlineData("figure.svgz", null)]
    [InlineData("page.html", null)]
    [InlineData("table.csv", null)]
    [InlineData("png", null)]
    public void A_name_claims_a_format_by_its_extension_only_for_the_four(string name, string? type) => Assert.Equal(type, PreviewImages.ClaimedBy(name));
}
