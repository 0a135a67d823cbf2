using OpenSpe.Disclosure.Files;

namespace OpenSpe.Disclosure.Tests;

/// <summary>
/// Magic numbers at their edges and the exact words of each file-type finding (what the researcher and the checker read).
/// </summary>
[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "SPER-4")]
public sealed class FileTypeEdgeTests
{
    [Fact]
    public void Sniffer_KnowsJpegAndBothGifVersions()
    {
        Assert.Equal(ContentKind.Jpeg, ContentSniffer.Detect([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F']));
        Assert.Equal(ContentKind.Gif, ContentSniffer.Detect("GIF87a"u8));
        Assert.Equal(ContentKind.Gif, ContentSniffer.Detect("GIF89a"u8));

        // Not a GIF version: plain ASCII, so text.
        Assert.Equal(ContentKind.Text, ContentSniffer.Detect("GIF88a is not a version"u8));
        Assert.Equal(ContentKind.Pdf, ContentSniffer.Detect("%PDF-1.7\n"u8));
    }

    [Fact]
    public void Sniffer_KnowsWebpByItsRiffFormTypeAndNoOtherRiffForm()
    {
        Assert.Equal(ContentKind.Webp, ContentSniffer.Detect(Convert.FromHexString("524946462200000057454250565038")));
        // A WAV file is a RIFF container too: unknown binary, not an image.
        Assert.Equal(ContentKind.UnknownBinary, ContentSniffer.Detect(Convert.FromHexString("52494646220000005741564566")));
        // RIFF with the form type cut short: plain ASCII then binary length bytes, so not WebP.
        Assert.NotEqual(ContentKind.Webp, ContentSniffer.Detect(Convert.FromHexString("52494646220000005745")));
    }

    [Fact]
    public void Sniffer_ANulByteAnywhere_IsBinary()
    {
        Assert.Equal(ContentKind.UnknownBinary, ContentSniffer.Detect("\0a,b\n"u8));
        Assert.Equal(ContentKind.UnknownBinary, ContentSniffer.Detect("a,b\n1,2\0"u8));
        Assert.Equal(ContentKind.Text, ContentSniffer.Detect([]));
    }

    [Theory]
    [InlineData(262, ContentKind.Archive)] // the shortest file that holds "ustar" at offset 257
    [InlineData(512, ContentKind.Archive)]
    public void Sniffer_TarIsRecognisedByUstarAtOffset257(int length, ContentKind expected)
    {
        var tar = new byte[length];
        "ustar"u8.CopyTo(tar.AsSpan(257));

        Assert.Equal(expected, ContentSniffer.Detect(tar));
    }

    [Fact]
    public void Sniffer_UstarElsewhere_IsNotTar()
    {
        var text = new byte[300];
        Array.Fill(text, (byte)'a');
        "ustar"u8.CopyTo(text.AsSpan(256));

        Assert.Equal(ContentKind.Text, ContentSniffer.Detect(text));
    }

    [Fact]
    public void Extension_IsLowerCaseWithoutTheDot_OrNull()
    {
        Assert.Equal("csv", FileTypeRule.Extension("T1.CSV"));
        Assert.Equal("gz", FileTypeRule.Extension("out.tar.gz"));
        Assert.Null(FileTypeRule.Extension("README"));
        Assert.Null(FileTypeRule.Extension("name."));
    }

    [Fact]
    public void NotOnTheAllowList_NamesTheTypeAndTheList()
    {
        var finding = Assert.Single(FileTypeRule.Check("run.exe", ContentKind.Text, ["csv", "png"]));

        Assert.Equal(("file-type.not-allowed", DisclosureStatus.Fail), (finding.Rule, finding.Severity));
        Assert.Equal("the file type 'exe' is not on the allow-list (csv, png).", finding.Reason);
        Assert.Empty(finding.Positions);
    }

    [Fact]
    public void NoExtension_IsNotOnTheAllowList()
    {
        var finding = Assert.Single(FileTypeRule.Check("README", ContentKind.Text, ["csv"]));

        Assert.Equal("file-type.not-allowed", finding.Rule);
        Assert.Equal("the file type '(none)' is not on the allow-list (csv).", finding.Reason);
    }

    [Theory]
    [InlineData(ContentKind.Archive, "file-type.archive", "the content is an archive, which could carry anything unchecked.")]
    [InlineData(ContentKind.Executable, "file-type.executable", "the content is an executable.")]
    [InlineData(ContentKind.UnknownBinary, "file-type.unknown-binary", "the content is binary of no recognised kind (text must be valid UTF-8 without NUL bytes).")]
    public void RefusedContent_SaysWhatItIs(ContentKind kind, string rule, string reason)
    {
        var finding = Assert.Single(FileTypeRule.Check("t1.csv", kind, ["csv"]));

        Assert.Equal((rule, reason, DisclosureStatus.Fail), (finding.Rule, finding.Reason, finding.Severity));
    }

    [Theory]
    [InlineData("fig.png", ContentKind.Text, "the name says 'png' but the content is text.")]
    [InlineData("t1.csv", ContentKind.Png, "the name says 'csv' but the content is png.")]
    [InlineData("photo.jpeg", ContentKind.Gif, "the name says 'jpeg' but the content is gif.")]
    [InlineData("photo.webp", ContentKind.Png, "the name says 'webp' but the content is png.")]
    public void Mismatch_NamesBoth(string name, ContentKind kind, string reason)
    {
        var finding = Assert.Single(FileTypeRule.Check(name, kind, ["png", "csv", "jpeg", "webp"]));

        Assert.Equal(("file-type.mismatch", reason), (finding.Rule, finding.Reason));
    }

    [Theory]
    [InlineData("FIG.PNG", ContentKind.Png)]
    [InlineData("a.jpg", ContentKind.Jpeg)]
    [InlineData("a.jpeg", ContentKind.Jpeg)]
    [InlineData("a.gif", ContentKind.Gif)]
    [InlineData("a.webp", ContentKind.Webp)]
    [InlineData("notes.md", ContentKind.Text)]
    public void MatchingContent_HasNoFinding(string name, ContentKind kind) =>
        Assert.Empty(FileTypeRule.Check(name, kind, ["png", "jpg", "jpeg", "gif", "webp", "md"]));

    [Fact]
    public void Pdf_IsReviewWithItsReason()
    {
        var finding = Assert.Single(FileTypeRule.Check("report.pdf", ContentKind.Pdf, ["pdf"]));

        Assert.Equal(("file-type.unscannable", DisclosureStatus.Review), (finding.Rule, finding.Severity));
        Assert.Equal("a PDF cannot be scanned for identifiers; a person must read it.", finding.Reason);
    }

    [Fact]
    public void AllowList_IsRequired()
    {
        var e = Assert.Throws<ArgumentNullException>(() => FileTypeRule.Check("a.csv", ContentKind.Text, null!));

        Assert.Equal("allowed", e.ParamName);
    }

    [Fact]
    public void DefaultExportTypes_AreTablesTextAndFigures() =>
        Assert.Equal(["csv", "tsv", "txt", "md", "json", "png", "jpg", "jpeg", "gif", "svg", "pdf"], FileTypeRule.DefaultExportTypes);

    [Fact]
    public void Mitigations_RefuseABaseBelowOneAndNegativeCounts()
    {
        Assert.Equal("roundingBase", Assert.Throws<ArgumentOutOfRangeException>(() => Mitigations.RoundToBase(12, 0)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => Mitigations.Midpoint6(-1)).ParamName);
        Assert.Equal(12, Mitigations.RoundToBase(12, 1));
    }
}
