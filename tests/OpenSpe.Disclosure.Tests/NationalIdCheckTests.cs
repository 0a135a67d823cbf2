using System.Text;
using OpenSpe.Disclosure.Identifiers;
using static OpenSpe.Disclosure.Tests.IdentifierExamples;

namespace OpenSpe.Disclosure.Tests;

/// <summary>
/// The check-digit algorithms on their own, with inputs the scanner never hands them (wrong lengths, letters where digits
/// belong) and the calendar edges: February in years divisible by 4 and not, the 30-day months, month 13, day 0.
/// </summary>
[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "SPER-4")]
public sealed class NationalIdCheckTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("T")]
    public void Hetu_WithACharacterTooMany_IsNot(string extra) =>
        Assert.False(NationalIdChecks.FinnishHetu(Bytes(Hetu("131052", '-', "308") + extra)));

    [Theory]
    // A letter in the date, in the individual number, or a sign that is no century sign; in each the last character is
    // the check character the rest would have if the letter were read as a digit ('A' - '0' = 17): 13105A → 131067.
    [InlineData("13105A-308N")]
    [InlineData("131052-30A3")]
    [InlineData("131052Z308T")]
    public void Hetu_WithALetterWhereADigitOrSignBelongs_IsNot(string text) => Assert.False(NationalIdChecks.FinnishHetu(Bytes(text)));

    [Theory]
    [InlineData("001", false)]
    [InlineData("002", true)]
    [InlineData("899", true)]
    public void Hetu_IndividualNumbersStartAt002(string individual, bool valid) =>
        Assert.Equal(valid, NationalIdChecks.FinnishHetu(Bytes(Hetu("010101", '-', individual))));

    [Fact]
    public void Swedish_NeedsExactlyTenDigits()
    {
        var ten = "811228987" + Luhn("811228987");
        Assert.True(NationalIdChecks.SwedishPersonnummer(Bytes(ten)));
        Assert.False(NationalIdChecks.SwedishPersonnummer(Bytes(ten + "0")));
        Assert.False(NationalIdChecks.SwedishPersonnummer(Bytes(ten[..9])));
        Assert.False(NationalIdChecks.SwedishPersonnummer(Bytes(ten[..9] + "X")));
    }

    [Theory]
    [InlineData("191212121")]
    [InlineData("990101999")]
    [InlineData("811261987")]
    public void Swedish_LuhnOverAllTenDigits(string nine)
    {
        Assert.True(NationalIdChecks.SwedishPersonnummer(Bytes(nine + Luhn(nine))));
        Assert.False(NationalIdChecks.SwedishPersonnummer(Bytes(WrongLast(nine + Luhn(nine)))));
    }

    [Fact]
    public void Swedish_Day60IsNoDate() =>
        Assert.False(NationalIdChecks.SwedishPersonnummer(Bytes("811260987" + Luhn("811260987"))));

    [Fact]
    public void Norwegian_NeedsExactlyElevenDigits()
    {
        var fnr = Fodselsnummer("150795");
        Assert.True(NationalIdChecks.NorwegianFodselsnummer(Bytes(fnr)));
        Assert.False(NationalIdChecks.NorwegianFodselsnummer(Bytes(fnr + "0")));
        Assert.False(NationalIdChecks.NorwegianFodselsnummer(Bytes(fnr[..10])));
        Assert.False(NationalIdChecks.NorwegianFodselsnummer(Bytes(fnr[..10] + "X")));
    }

    [Theory]
    [InlineData("154795", true)] // H-number: month + 40
    [InlineData("554795", true)] // D- and H-number at once
    [InlineData("405795", false)] // day 40 - 40 = 0
    [InlineData("154095", false)] // month 40 - 40 = 0
    public void Norwegian_DAndHNumbers(string ddmmyy, bool valid)
    {
        // Fodselsnummer gives valid check digits for any six digits; only the date decides here.
        Assert.Equal(valid, NationalIdChecks.NorwegianFodselsnummer(Bytes(Fodselsnummer(ddmmyy))));
    }

    [Theory]
    [InlineData("15079510502", true)] // first check digit 0 (11 - 0)
    [InlineData("15079510340", true)] // second check digit 0
    [InlineData("15079510014", false)] // first check would be 10: no digit, so no number; '1' there is not it
    public void Norwegian_CheckDigitsFromRemainders(string fnr, bool valid) =>
        Assert.Equal(valid, NationalIdChecks.NorwegianFodselsnummer(Bytes(fnr)));

    [Theory]
    [InlineData("2902001234", true)] // 29 February, year 00
    [InlineData("2902241234", true)] // 29 February, year 24
    [InlineData("2902011234", false)]
    [InlineData("2802011234", true)]
    [InlineData("3001241234", true)]
    [InlineData("3004991234", true)]
    [InlineData("3104991234", false)]
    [InlineData("3106991234", false)]
    [InlineData("3109991234", false)]
    [InlineData("3111991234", false)]
    [InlineData("3112991234", true)]
    [InlineData("3107991234", true)]
    [InlineData("0113991234", false)] // month 13
    [InlineData("0100991234", false)] // month 0
    [InlineData("0001991234", false)] // day 0
    public void DanishDate_Calendar(string ten, bool valid)
    {
        Assert.Equal(valid, NationalIdChecks.DanishCprDate(Bytes(ten), out _));
    }

    [Fact]
    public void DanishDate_NoModulus11WhenNoDate()
    {
        // Day 41 is no date; a wrong length is no CPR: neither tells of a modulus-11 property.
        Assert.False(NationalIdChecks.DanishCprDate(Bytes("4113991201"), out var modulus11));
        Assert.False(modulus11);
        Assert.False(NationalIdChecks.DanishCprDate(Bytes("31129912340"), out modulus11));
        Assert.False(modulus11);
    }

    [Theory]
    // 3112991234 weighted by 4,3,2,7,6,5,4,3,2,1: 12+3+2+14+54+45+4+6+6+4 = 150 = 13·11 + 7: no.
    [InlineData("3112991234", false)]
    // 3112991230 .. 3112991239: the sum runs 146..155; 154 = 14·11 at last digit 8.
    [InlineData("3112991238", true)]
    // 0101011232: 0+3+0+7+0+5+4+6+6+2 = 33 = 3·11.
    [InlineData("0101011232", true)]
    [InlineData("0101011233", false)]
    public void DanishDate_Modulus11(string ten, bool modulus11)
    {
        Assert.True(NationalIdChecks.DanishCprDate(Bytes(ten), out var actual));
        Assert.Equal(modulus11, actual);
    }

    [Fact]
    public void Estonian_NeedsElevenDigitsAndACenturyDigitFrom1To6()
    {
        Assert.True(NationalIdChecks.EstonianIsikukood(Bytes(Isikukood("1760312123"))));
        Assert.True(NationalIdChecks.EstonianIsikukood(Bytes(Isikukood("6760312123"))));
        Assert.False(NationalIdChecks.EstonianIsikukood(Bytes(Isikukood("0760312123"))));
        Assert.False(NationalIdChecks.EstonianIsikukood(Bytes(Isikukood("7760312123"))));
        Assert.False(NationalIdChecks.EstonianIsikukood(Bytes(Isikukood("3760312123") + "0")));
        Assert.False(NationalIdChecks.EstonianIsikukood(Bytes(Isikukood("3760312123")[..10])));

        // A letter where a digit belongs; 3 is the check digit the rest would have if 'A' were read as 17.
        Assert.False(NationalIdChecks.EstonianIsikukood(Bytes("37603121A33")));
        Assert.False(NationalIdChecks.EstonianIsikukood(Bytes(Isikukood("3761312123"))));
    }

    [Theory]
    // 3760312018: first weights 3+14+18+0+15+6+14+0+9+8 = 87 ≡ 10; second 9+28+30+0+21+8+18+0+2+24 = 140 ≡ 8.
    [InlineData("3760312018", "37603120188")]
    [InlineData("3760312006", "37603120060")] // first weights give 10; second give 0
    [InlineData("3760312043", "37603120430")] // both give 10: check digit 0
    public void Estonian_SecondWeightsWhenTheFirstGive10(string ten, string expected)
    {
        Assert.Equal(expected, Isikukood(ten));
        Assert.True(NationalIdChecks.EstonianIsikukood(Bytes(expected)));
        Assert.False(NationalIdChecks.EstonianIsikukood(Bytes(WrongLast(expected))));
    }

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);
}
