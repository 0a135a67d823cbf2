using System.Text;
using OpenSpe.Disclosure.Identifiers;
using static OpenSpe.Disclosure.Tests.IdentifierExamples;

namespace OpenSpe.Disclosure.Tests;

[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "SPER-4")]
public sealed class IdentifierScannerTests : IDisposable
{
    private readonly TestFiles _files = new();

    public static TheoryData<string, string> Valid()
    {
        var data = new TheoryData<string, string>
        {
            { Hetu("131052", '-', "308"), "identifier.fi-hetu" },
            { Hetu("010199", 'A', "123"), "identifier.fi-hetu" },
            { "811228-" + "987" + Luhn("811228987"), "identifier.se-personnummer" },
            { "19811228" + "987" + Luhn("811228987"), "identifier.se-personnummer" },
            { "811288-" + "987" + Luhn("811288987"), "identifier.se-samordningsnummer" },
            { Fodselsnummer("150795"), "identifier.no-fodselsnummer" },
            { Fodselsnummer("550795"), "identifier.no-fodselsnummer" },
            { Cpr("311299"), "identifier.dk-cpr" },
            { Isikukood("3760312123"), "identifier.ee-isikukood" },
            { Isikukood("4900101002"), "identifier.ee-isikukood" },
            { "anna.virtanen@example.fi", "identifier.email" },
            { "+358 40 123 4567", "identifier.phone" },
            { "+46701234567", "identifier.phone" },
            { Iban("FI", "12345600000785"), "identifier.iban" },
            { Iban("DE", "370400440532013000"), "identifier.iban" },
            { "192.168.10.254", "identifier.ipv4" },
            { "2001:db8::8a2e:370:7334", "identifier.ipv6" },
            { "fe80::1", "identifier.ipv6" },
        };
        return data;
    }

    public static TheoryData<string> WrongChecksum() =>
    [
        WrongLast(Hetu("131052", '-', "308")),
        WrongLast("811228-" + "987" + Luhn("811228987")),
        WrongLast("19811228" + "987" + Luhn("811228987")),
        WrongLast(Fodselsnummer("150795")),
        WrongLast(Isikukood("3760312123")),
        WrongLast(Iban("FI", "12345600000785")),
        "anna.virtanen@example",
        "+358 40 12",
        "192.168.10.256",
        "12:30:45",
        "3.1415926535",
    ];

    [Theory]
    [MemberData(nameof(Valid))]
    public void ValidIdentifier_FailsTheFile_WithLineAndColumn(string identifier, string rule)
    {
        _files.Write("notes.md", $"# Notes\nContact: {identifier} today.\n");

        var report = _files.Check("notes.md", """{"outputs": [{"file": "notes.md", "kind": "text"}]}""");

        var finding = Assert.Single(report.Findings);
        Assert.Equal(rule, finding.Rule);
        Assert.Equal(DisclosureStatus.Fail, report.Status);
        Assert.Equal(["line 2, column 10"], finding.Positions);
        Assert.DoesNotContain(identifier, DisclosureReportJson.Write(new DisclosureReport([report])), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(WrongChecksum))]
    public void RightShapeWrongChecksum_DoesNotFail(string text)
    {
        var matches = IdentifierScanner.Scan(Encoding.UTF8.GetBytes($"value {text} end"));

        Assert.Empty(matches);
    }

    [Fact]
    public void DanishCprWithoutModulus11_IsReview()
    {
        // Note: CPR numbers issued since 2007 need not satisfy modulus 11, so a hyphenated DDMMYY-SSSS with a valid date and a
        // failing check is a person's call, not a pass and not a certain identifier.
        var valid = Cpr("311299");
        var unchecked_ = WrongLast(valid);
        _files.Write("notes.md", $"x {unchecked_}\n");

        var report = _files.Check("notes.md", """{"outputs": [{"file": "notes.md", "kind": "text"}]}""");

        Assert.Equal(DisclosureStatus.Review, report.Status);
        Assert.Equal("identifier.dk-cpr-unchecked", Assert.Single(report.Findings).Rule);
    }

    [Fact]
    public void DanishCprShapeWithImpossibleDate_IsNothing()
    {
        Assert.Empty(IdentifierScanner.Scan("x 320761-1234 y"u8));
    }

    [Fact]
    public void CountsAndDates_InATable_AreNotIdentifiers()
    {
        var table = "region,year,count,mean\nNorth,2024,1234,12.5\nSouth,2023-01-15,99,3.25\n"u8;

        Assert.Empty(IdentifierScanner.Scan(table));
    }

    [Fact]
    public void Column_CountsCharactersNotBytes()
    {
        var matches = IdentifierScanner.Scan(Encoding.UTF8.GetBytes("ääkkönen\nÄö anna@example.org"));

        var match = Assert.Single(matches);
        Assert.Equal((2, 4), (match.Line, match.Column));
    }

    [Fact]
    public void IbanPrintedInGroupsOfFour_IsFound()
    {
        var iban = Iban("FI", "12345600000785");
        var grouped = string.Join(' ', iban.Chunk(4).Select(c => new string(c)));

        var match = Assert.Single(IdentifierScanner.Scan(Encoding.UTF8.GetBytes($"pay to {grouped} Thanks")));

        Assert.Equal(IdentifierKind.Iban, match.Kind);
    }

    public void Dispose() => _files.Dispose();
}
