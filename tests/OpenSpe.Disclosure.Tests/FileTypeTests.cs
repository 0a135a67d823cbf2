using OpenSpe.Disclosure.Files;

namespace OpenSpe.Disclosure.Tests;

[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "SPER-4")]
public sealed class FileTypeTests : IDisposable
{
    private static readonly byte[] PngHeader = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52];
    private static readonly byte[] ZipHeader = [0x50, 0x4B, 0x03, 0x04, 20, 0, 0, 0, 8, 0, 0, 0];
    private static readonly byte[] ElfHeader = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private readonly TestFiles _files = new();

    [Fact]
    public void Sniffer_RecognisesRealHeaders()
    {
        Assert.Equal(ContentKind.Png, ContentSniffer.Detect(PngHeader));
        Assert.Equal(ContentKind.Archive, ContentSniffer.Detect(ZipHeader));
        Assert.Equal(ContentKind.Executable, ContentSniffer.Detect(ElfHeader));
        Assert.Equal(ContentKind.Text, ContentSniffer.Detect("a,b\n1,2\n"u8));
        Assert.Equal(ContentKind.UnknownBinary, ContentSniffer.Detect([(byte)'a', (byte)',', 0xC3, 0x28, (byte)'\n']));
        Assert.Equal(ContentKind.UnknownBinary, ContentSniffer.Detect("a,b\0\n"u8));
    }

    [Fact]
    public void Png_NamedPng_PassesAsFigureOfAPassingTable()
    {
        _files.Write("t1.csv", "sex,n\nF,12\nM,15\n");
        _files.Write("fig1.png", TestImages.Png);

        var report = _files.Check("fig1.png", """
            {"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"]}, {"file": "fig1.png", "kind": "figure", "basedOn": "t1.csv"}]}
            """);

        Assert.Equal(DisclosureStatus.Pass, report.Status);
    }

    [Fact]
    public void Figure_IsCheckedAsTheTableItIsBasedOn()
    {
        _files.Write("t1.csv", "sex,n\nF,3\nM,15\n");
        _files.Write("fig1.png", TestImages.Png);

        var report = _files.Check("fig1.png", """
            {"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"]}, {"file": "fig1.png", "kind": "figure", "basedOn": "t1.csv"}]}
            """);

        var finding = Assert.Single(report.Findings);
        Assert.Equal("frequency.threshold", finding.Rule);
        Assert.StartsWith("in t1.csv", finding.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("results.csv", "zip", "file-type.archive")]
    [InlineData("results.zip", "zip", "file-type.not-allowed")]
    [InlineData("tool.txt", "elf", "file-type.executable")]
    [InlineData("t1.csv", "badutf8", "file-type.unknown-binary")]
    [InlineData("t1.csv", "png", "file-type.mismatch")]
    [InlineData("fig.png", "text", "file-type.mismatch")]
    [InlineData("run.sh", "text", "file-type.not-allowed")]
    public void ForbiddenOrMismatchedContent_Fails(string name, string content, string rule)
    {
        _files.Write(name, content switch
        {
            "zip" => ZipHeader,
            "elf" => ElfHeader,
            "png" => PngHeader,
            "badutf8" => [(byte)'a', (byte)',', (byte)'b', (byte)'\n', 0xFF, 0xFE, (byte)',', (byte)'1', (byte)'\n'],
            _ => "a,b\n12,13\n"u8.ToArray(),
        });

        var report = _files.Check(name, $$"""{"outputs": [{"file": "{{name}}", "kind": "text"}]}""");

        Assert.Equal(DisclosureStatus.Fail, report.Status);
        Assert.Contains(report.Findings, f => f.Rule == rule);
    }

    [Fact]
    public void AllowList_ComesFromTheCaller()
    {
        _files.Write("t.txt", "hello\n");

        var report = new OutputChecker(DisclosurePolicy.Default, ["csv"]).CheckFile(Path.Combine(_files.Root, "t.txt"),
            Descriptions.OutputDescriptionParser.Parse("""{"outputs": [{"file": "t.txt", "kind": "text"}]}"""));

        Assert.Equal("file-type.not-allowed", Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public void Pdf_IsReview_BecauseItCannotBeScanned()
    {
        _files.Write("r.pdf", "%PDF-1.7\n%\u00e2\u00e3\n"u8.ToArray());

        Assert.Equal(DisclosureStatus.Review, _files.Check("r.pdf", """{"outputs": [{"file": "r.pdf", "kind": "text"}]}""").Status);
    }

    public void Dispose() => _files.Dispose();
}
