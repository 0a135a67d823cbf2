using System.Text;
using OpenSpe.Disclosure.Identifiers;
using static OpenSpe.Disclosure.Tests.IdentifierExamples;

namespace OpenSpe.Disclosure.Tests;

/// <summary>
/// The edges of every identifier shape: where a token may start and end (letters, digits and '.' around it, start and end
/// of text), lengths at and beyond their limits, separators, check digits in each position, adjacent identifiers, and the
/// line and column of each. Expected positions are counted by hand from the text (columns are 1-based characters).
/// </summary>
[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "SPER-4")]
public sealed class IdentifierShapeTests
{
    private static readonly string Se = "811228-987" + Luhn("811228987");
    private static readonly string Fi = Iban("FI", "12345600000785");

    public static TheoryData<string, string, string> Shapes() => new()
    {
        // Start and end of text; a digit token that starts with 9.
        { "IPv4 alone, starting with 9", "93.184.216.34", "ipv4@1:1" },
        { "IPv4 at the end of text", "at 10.0.0.1", "ipv4@1:4" },
        { "three digits at the end of text", "room 12", "" },
        { "four digits at the end of text", "code 2024", "" },

        // What may stand before a token: not a letter (any case), digit or '.'.
        { "IPv4 after a lower-case z", "z10.0.0.1", "" },
        { "IPv4 after an upper-case letter", "Q10.0.0.1", "" },
        { "IPv4 after an underscore", "_10.0.0.1", "ipv4@1:2" },
        { "IPv4 after a letter and a dot", "x.10.0.0.1", "" },
        { "five dotted numbers", "version 1.2.3.4.5", "" },

        // What may stand after a token: not a letter or digit, and not a '.' before a digit.
        { "IPv4 followed by a letter", "10.0.0.1a", "" },
        { "IPv4 followed by a space and a digit", "at 10.0.0.1 5", "ipv4@1:4" },
        { "IPv4 ending a sentence at the end of text", "at 10.0.0.1.", "ipv4@1:4" },
        { "IPv4 ending a sentence", "at 10.0.0.1. Next", "ipv4@1:4" },
        { "IPv4 with a port", "from 10.0.0.1:8080 on", "ipv4@1:6" },
        { "IPv4 with a port at the end of text", "10.0.0.1:443", "ipv4@1:1" },
        { "IPv4 with a port, then another address", "10.0.0.1:443 10.0.0.2", "ipv4@1:1 ipv4@1:14" },
        { "IPv4 and a colon before a word", "10.0.0.1:a", "" },
        { "IPv4 and a colon with six digits", "10.0.0.1:123456", "" },

        // IPv4 octets.
        { "IPv4 octet 255", "at 10.0.0.255", "ipv4@1:4" },
        { "IPv4 octet with a leading zero", "at 10.01.0.1", "" },
        { "two IPv4 addresses on one line", "a 10.0.0.1 10.0.0.2", "ipv4@1:3 ipv4@1:12" },

        // Identifiers at the start of a line, on later lines, after CRLF.
        { "lines and CRLF", "x\n10.0.0.1\r\n\r\nanna@example.org", "ipv4@2:1 email@4:1" },
        { "second line after CRLF", "a\r\nb 10.0.0.1", "ipv4@2:3" },

        // Finnish HETU: individual number 002 is the lowest issued; at the end of text.
        { "HETU at the end of text", "id " + Hetu("131052", '-', "308"), "fi-hetu@1:4" },
        { "HETU with individual number 002", "id " + Hetu("010101", '-', "002"), "fi-hetu@1:4" },
        { "HETU with individual number 001", "id " + Hetu("010101", '-', "001"), "" },
        { "HETU shape with a sign that is not a century sign", "id " + Hetu("131052", 'Z', "308"), "" },
        { "six digits at the end of text", "code 123456", "" },

        // Swedish: the separator must be '-' or '+'; 8-digit year with a hyphen; a 10-digit run must end there.
        { "personnummer with a slash", "id 811228/987" + Luhn("811228987"), "" },
        { "personnummer after a digit and a dot", "id 1.811228-987" + Luhn("811228987"), "" },
        { "personnummer with a four-digit year and a hyphen", "born 19811228-987" + Luhn("811228987") + " ok", "se-personnummer@1:6" },
        { "the same at the end of text", "19811228-987" + Luhn("811228987"), "se-personnummer@1:1" },
        { "eight digits at the end of text", "date 20240115", "" },
        { "personnummer digits followed by a decimal", "x 811228987" + Luhn("811228987") + ".5", "" },
        { "personnummer with '+' (over 100 years old)", "x 811228+987" + Luhn("811228987"), "se-personnummer@1:3" },
        { "samordningsnummer with day 61", "x 811261-987" + Luhn("811261987"), "se-samordningsnummer@1:3" },
        { "personnummer with a 9 where the Luhn weight is 1", "x 191212-121" + Luhn("191212121"), "se-personnummer@1:3" },
        { "month 13", "x 811328-987" + Luhn("811328987"), "" },

        // A number that is a valid personnummer and has a valid Danish date is reported once, as Swedish.
        { "personnummer that is also a CPR date", "x 010203-123" + Luhn("010203123"), "se-personnummer@1:3" },

        // Danish CPR without a hyphen: only with the modulus-11 check.
        { "bare CPR with modulus 11", "cpr " + Cpr("311299").Replace("-", "", StringComparison.Ordinal), "dk-cpr@1:5" },
        { "bare CPR shape without modulus 11", "cpr " + WrongLast(Cpr("311299")).Replace("-", "", StringComparison.Ordinal), "" },
        { "ten digits that are no date", "no 1234567890", "" },

        // Norwegian: an H-number (month + 40) and check digits that are 0 because the remainder was 0.
        { "Norwegian H-number", "fnr " + Fodselsnummer("154795"), "no-fodselsnummer@1:5" },
        { "Norwegian first check digit 0", "fnr 15079510502", "no-fodselsnummer@1:5" },
        { "Norwegian second check digit 0", "fnr 15079510340", "no-fodselsnummer@1:5" },
        { "Norwegian with a first check that has no digit (remainder 1)", "fnr 15079510014", "" },

        // Estonian: the second weights when the first give 10, and 0 when the second give 10 too.
        { "isikukood from the second weights", "ik " + Isikukood("3760312006"), "ee-isikukood@1:4" },
        { "isikukood whose second weights give 10", "ik " + Isikukood("3760312043"), "ee-isikukood@1:4" },

        // Phone numbers: '+' and 8 to 15 digits, not after a letter or digit, first digit 1-9.
        { "phone at the start of text", "+46701234567 is mine", "phone@1:1" },
        { "phone at the end of text", "call +46701234567", "phone@1:6" },
        { "phone with a leading zero", "tel +0401234567", "" },
        { "'+' at the end of text", "tel +", "" },
        { "phone after a letter", "x+46701234567", "" },
        { "North American phone", "call +1 202 555 0143", "phone@1:6" },
        { "phone starting with 9", "call +91 98765 43210", "phone@1:6" },
        { "phone ending a sentence", "call +46701234567.", "phone@1:6" },
        { "phone in brackets at the end of text", "call +46701234567)", "phone@1:6" },
        { "8 digits", "call +35840123", "phone@1:6" },
        { "7 digits", "call +3584012", "" },
        { "15 digits", "n +123456789012345", "phone@1:3" },
        { "16 digits", "n +1234567890123456", "" },
        { "15 digits and one more after a space", "n +123456789012345 6", "" },
        { "UK phone with a bracketed trunk zero", "call +44 (0)20 7946 0958", "phone@1:6" },
        { "US phone with a bracketed area code", "call +1 (202) 555 0143", "phone@1:6" },
        { "phone followed by a slash and digits", "call +46701234567/12345", "phone@1:6" },
        { "phone followed by a letter", "x +46701234567x 1", "" },
        { "phone followed by words and digits", "call +46701234567 and 12345", "phone@1:6" },
        { "two phones", "tel +46701234567, +46701234568", "phone@1:5 phone@1:19" },

        // E-mail: local part of at most 64 characters, a domain with a letters-only top-level label of two or more.
        { "e-mail at the start of text", "anna@example.org", "email@1:1" },
        { "e-mail with a 65-character local part", "b" + new string('a', 64) + "@example.org", "email@1:2" },
        { "e-mail far into the line", "Please contact the coordinator at anna@example.org", "email@1:35" },
        { "'@' without a local part", "mail @example.org", "" },
        { "'@' followed by a space", "x@ example.com", "" },
        { "domain starting with a dot", "x@.com", "" },
        { "domain starting with two dots", "a@..example.com", "" },
        { "one-letter top-level label", "anna@example.c", "" },
        { "numeric top-level label", "anna@host.123", "" },
        { "top-level label with an a", "to x@example.at", "email@1:4" },
        { "top-level label with a z", "to x@example.nz", "email@1:4" },
        { "an address in the domain is part of the e-mail", "ops@node-10.0.0.1.example.org", "email@1:1" },

        // IPv6.
        { "IPv6 at the start of text", "fe80::1 here", "ipv6@1:1" },
        { "IPv6 after a letter", "xfe80::1", "" },
        { "IPv6 followed by a letter", "at fe80::1g", "" },
        { "IPv6 loopback", "lo ::1", "ipv6@1:4" },
        { "IPv6 then IPv4", "a fe80::1 10.0.0.1", "ipv6@1:3 ipv4@1:11" },
        { "a personnummer right after a colon in JSON", "{\"pnr\":811228987" + Luhn("811228987") + "}", "se-personnummer@1:8" },
        { "an IPv4 right after a colon", "{\"a\":1,\"ip\":10.0.0.1}", "ipv4@1:13" },

        // IBAN: two capitals, two digits, 15 to 34 characters, contiguous or in groups of four.
        { "IBAN after a letter", "x" + Fi, "" },
        { "two capitals at the end of text", "see EU", "" },
        { "one capital at the end of text", "grade A", "" },
        { "check 'digits' with a letter", "ref AB1C1000000000000", "" },
        { "a capital and a digit", "ref A110000000000003", "" },
        { "IBAN whose second letter is A", "iban " + Iban("BA", "1290079401028494"), "iban@1:6" },
        { "IBAN whose second letter is Z", "iban " + Iban("CZ", "08000000192000145399"), "iban@1:6" },
        { "IBAN starting with A", "iban " + Iban("AT", "1904300234573201"), "iban@1:6" },
        { "IBAN at the end of text", "iban " + Fi, "iban@1:6" },
        { "35 characters of IBAN shape", "ref XX00" + new string('1', 40), "" },
        { "IBAN of 15 characters (Norway)", "iban " + Iban("NO", "86011117947"), "iban@1:6" },
        { "14 characters with a valid check", "ref " + Iban("XX", "1234567890"), "" },
        { "IBAN followed by a letter", "iban " + Fi + "x", "" },
        { "IBAN then IPv4", "iban " + Fi + ", 10.0.0.1", "iban@1:6 ipv4@1:26" },
        { "four IBAN characters at the end of text", "ref AB12", "" },
        { "a group of four and a space at the end of text", "pay FI21 ", "" },
        { "British IBAN in groups, bank code starting with A", "pay " + Grouped(Iban("GB", "AIBK93115212345678")), "iban@1:5" },
        { "British IBAN in groups, bank code starting with Z", "pay " + Grouped(Iban("GB", "ZZZZ93115212345678")), "iban@1:5" },
        { "IBAN in groups split by hyphens", "pay " + Grouped(Fi).Replace(' ', '-'), "iban@1:5" },
        { "IBAN in groups of six", "pay " + string.Join(' ', Fi.Chunk(6).Select(c => new string(c))), "iban@1:5" },
        { "IBAN in uneven groups", "pay " + Fi[..6] + " " + Fi[6..9] + "-" + Fi[9..], "iban@1:5" },
        { "IBAN in groups with a wrong check", "pay " + Grouped(Fi[..^1] + (Fi[^1] == '5' ? '6' : '5')).Replace(' ', '-'), "" },
        { "IBAN in groups split by two spaces", "pay " + Fi[..4] + "  " + Fi[4..], "" },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Shape_IsFoundExactlyWhereItIs(string name, string text, string expected)
    {
        Assert.NotEmpty(name);

        var found = IdentifierScanner.Scan(Encoding.UTF8.GetBytes(text));

        Assert.Equal(expected, string.Join(' ', found.Select(m => $"{m.Kind.Rule["identifier.".Length..]}@{m.Line}:{m.Column}")));
    }

    public static TheoryData<string, string> Kinds() => new()
    {
        { Hetu("131052", '-', "308"), "a Finnish personal identity code (HETU) with a valid check character" },
        { Se, "a Swedish personnummer with a valid check digit" },
        { "811288-987" + Luhn("811288987"), "a Swedish samordningsnummer with a valid check digit" },
        { Fodselsnummer("150795"), "a Norwegian fødselsnummer with valid check digits" },
        { Cpr("311299"), "a Danish CPR number (valid date and modulus-11 check)" },
        { WrongLast(Cpr("311299")), "the shape of a Danish CPR number (DDMMYY-SSSS, valid date) without the modulus-11 check, which numbers issued since 2007 need not have" },
        { Isikukood("3760312123"), "an Estonian personal identification code with a valid check digit" },
        { "anna@example.org", "an e-mail address" },
        { "+46701234567", "an international phone number (+ and 8–15 digits)" },
        { Fi, "an IBAN with a valid mod-97 check" },
        { "10.0.0.1", "an IPv4 address" },
        { "fe80::1", "an IPv6 address" },
    };

    /// <summary>The reason a researcher reads names the kind in words (and never the value).</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void Reason_NamesTheKindInWords(string identifier, string words)
    {
        using var files = new TestFiles();
        files.Write("notes.md", $"a {identifier}\nb {identifier}\n");

        var report = files.Check("notes.md", """{"outputs": [{"file": "notes.md", "kind": "text"}]}""");

        var finding = Assert.Single(report.Findings);
        Assert.Equal($"2 × {words}.", finding.Reason);
        Assert.Equal(["line 1, column 3", "line 2, column 3"], finding.Positions);
    }

    private static string Grouped(string iban) => string.Join(' ', iban.Chunk(4).Select(c => new string(c)));
}
