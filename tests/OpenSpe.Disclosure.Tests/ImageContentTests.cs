using System.Text;

namespace OpenSpe.Disclosure.Tests;

/// <summary>
/// An image is judged on its own bytes, not only on the table it is described as drawn from: the checkers' preview shows
/// only the pixels, so bytes after the end marker, text chunks, comments and chunks no viewer shows are read or sent to a
/// person (the bypass an outside review found: CSV rows, a HETU and an e-mail address after a PNG's IEND passed).
/// </summary>
[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "SPER-4")]
public sealed class ImageContentTests : IDisposable
{
    private const string Hetu = "131052-308T";
    private const string CleanTable = "sex,n\nF,12\nM,15\n";
    private readonly TestFiles _files = new();

    private FileReport Figure(string name, byte[] bytes)
    {
        _files.Write("t1.csv", CleanTable);
        _files.Write(name, bytes);
        return _files.Check(name, $$"""
            {"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"]}, {"file": "{{name}}", "kind": "figure", "basedOn": "t1.csv"}]}
            """);
    }

    public static TheoryData<string, string> CleanImages() => new()
    {
        { "fig.png", "png" }, { "fig.jpg", "jpeg" }, { "fig.gif", "gif" }, { "fig.webp", "webp" }, { "grey.png", "grey" },
    };

    [Theory]
    [MemberData(nameof(CleanImages))]
    public void CleanImage_OfACleanTable_StillPasses(string name, string image)
    {
        var bytes = image switch
        {
            "png" => TestImages.Png,
            "jpeg" => TestImages.Jpeg,
            "gif" => TestImages.Gif,
            "webp" => TestImages.Webp,
            _ => TestImages.GreyPng(3, 2, rows: 2),
        };
        _files.Write("t1.csv", CleanTable);
        _files.Write(name, bytes);

        var report = new OutputChecker(DisclosurePolicy.Default, ["csv", "png", "jpg", "gif", "webp"]).CheckFile(Path.Combine(_files.Root, name),
            Descriptions.OutputDescriptionParser.Parse($$"""
                {"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"]}, {"file": "{{name}}", "kind": "figure", "basedOn": "t1.csv"}]}
                """));

        Assert.Empty(report.Findings);
    }

    [Fact]
    public void The_reviewed_bypass_PngWithCsvHetuAndEmailAfterIend_Fails()
    {
        var tail = "\nperson_id,birth_year,hetu,email\n100001,1952," + Hetu + ",anna.virtanen@example.fi\n100002,1961,,\n";
        var png = TestImages.Append(TestImages.Png, tail);

        var report = Figure("fig1.png", png);

        Assert.Equal(DisclosureStatus.Fail, report.Status);
        var end = TestImages.Png.Length;
        var trailing = Assert.Single(report.Findings, f => f.Rule == "image.trailing-data");
        Assert.Equal(DisclosureStatus.Review, trailing.Severity);
        Assert.Equal($"{tail.Length} byte(s) follow the PNG's IEND chunk at byte {end}: an image ends there, so no viewer or preview shows them; they hold a table of 2 rows and 4 columns separated by ','.", trailing.Reason);
        Assert.Equal([$"bytes {end}–{png.Length - 1}"], trailing.Positions);
        Assert.Equal(["after the PNG's IEND chunk, line 3, column 13"], Assert.Single(report.Findings, f => f.Rule == "identifier.fi-hetu").Positions);
        Assert.Equal(["after the PNG's IEND chunk, line 3, column 25"], Assert.Single(report.Findings, f => f.Rule == "identifier.email").Positions);

        // The same identifier in a text file fails the same way: the wrapper changes nothing.
        _files.Write("same.txt", Hetu + "\n");
        Assert.Equal("identifier.fi-hetu", Assert.Single(_files.Check("same.txt", """{"outputs": [{"file": "same.txt", "kind": "text"}]}""").Findings).Rule);
    }

    [Theory]
    [InlineData("fig.png", "png")]
    [InlineData("fig.jpg", "jpeg")]
    [InlineData("fig.gif", "gif")]
    [InlineData("fig.webp", "webp")]
    public void BytesAfterTheEndMarker_AreReview_EvenWithoutIdentifiers(string name, string image)
    {
        var (bytes, marker) = image switch
        {
            "png" => (TestImages.Png, "PNG's IEND chunk"),
            "jpeg" => (TestImages.Jpeg, "JPEG's EOI marker"),
            "gif" => (TestImages.Gif, "GIF's trailer (0x3B)"),
            _ => (TestImages.Webp, "WebP's RIFF end"),
        };

        var report = new OutputChecker(DisclosurePolicy.Default, ["png", "jpg", "gif", "webp"]).CheckFile(_files.Write(name, TestImages.Append(bytes, "x")),
            Descriptions.OutputDescriptionParser.Parse($$"""{"outputs": [{"file": "{{name}}", "kind": "text"}]}"""));

        var finding = Assert.Single(report.Findings, f => f.Rule == "image.trailing-data");
        Assert.StartsWith($"1 byte(s) follow the {marker} at byte {bytes.Length}", finding.Reason, StringComparison.Ordinal);
        Assert.Equal(DisclosureStatus.Review, report.Findings.Where(f => f.Rule != "description.fit").Max(f => f.Severity));
    }

    [Fact]
    public void PngTextChunk_WithAHetu_Fails_NamingTheChunk()
    {
        var png = TestImages.WithChunk(TestImages.Png, "tEXt", [.. "Comment"u8, 0, .. Encoding.Latin1.GetBytes("patient " + Hetu)]);

        var report = Figure("fig.png", png);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("identifier.fi-hetu", DisclosureStatus.Fail), (finding.Rule, finding.Severity));
        Assert.Equal([$"PNG tEXt chunk at byte {TestImages.Png.Length - 12}, line 1, column 17"], finding.Positions);
    }

    [Fact]
    public void PngCompressedTextChunk_HoldingATable_IsReview()
    {
        var csv = "id,age,sex\n" + string.Concat(Enumerable.Range(1, 30).Select(i => $"{i},{40 + i},F\n"));
        var png = TestImages.WithChunk(TestImages.Png, "zTXt", TestImages.ZText("Comment", csv));

        var report = Figure("fig.png", png);

        Assert.Equal(DisclosureStatus.Review, report.Status);
        var finding = Assert.Single(report.Findings);
        Assert.Equal("image.table", finding.Rule);
        Assert.Contains("(inflated) holds a table of 30 rows and 3 columns", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void PngPrivateChunk_IsReview()
    {
        var png = TestImages.WithChunk(TestImages.Png, "prVt", "opaque"u8.ToArray());

        var report = Figure("fig.png", png);

        var finding = Assert.Single(report.Findings);
        Assert.Equal(("image.unknown-segment", DisclosureStatus.Review), (finding.Rule, finding.Severity));
        Assert.Contains("chunk of type 'prVt'", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void PngPixelDataLongerThanThePicture_IsReview()
    {
        // 3 × 2 pixels, but 50 scanlines in IDAT: a decoder draws two and never shows the other 48.
        var report = Figure("fig.png", TestImages.GreyPng(3, 2, rows: 50));

        var finding = Assert.Single(report.Findings);
        Assert.Equal("image.excess-pixel-data", finding.Rule);
        Assert.Contains("more than the 8 bytes its 3 × 2 image needs", finding.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(40)]
    public void PngCutShort_IsReview(int length)
    {
        var report = Figure("fig.png", TestImages.Png[..length]);

        Assert.Equal("image.malformed", Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public void JpegComment_WithAnEmail_Fails()
    {
        var report = Figure("fig.jpg", TestImages.WithJpegComment("made by anna.virtanen@example.fi"));

        var finding = Assert.Single(report.Findings);
        Assert.Equal("identifier.email", finding.Rule);
        Assert.Equal(["JPEG comment (COM) at byte 2, line 1, column 9"], finding.Positions);
    }

    [Fact]
    public void GifComment_WithAHetu_Fails()
    {
        var report = Figure("fig.gif", TestImages.WithGifComment(Hetu));

        Assert.Equal("identifier.fi-hetu", Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public void ImageMetadataBeyond64KiB_IsReview()
    {
        var png = TestImages.WithChunk(TestImages.Png, "tEXt", [.. "Comment"u8, 0, .. Enumerable.Repeat((byte)'a', 70_000)]);

        var report = Figure("fig.png", png);

        Assert.Equal("image.metadata-size", Assert.Single(report.Findings).Rule);
    }

    public void Dispose() => _files.Dispose();
}
