namespace OpenSpe.Disclosure.Identifiers;

/// <summary>A kind of direct identifier the scanner finds; <see cref="Rule"/> is the report's rule name.</summary>
/// <param name="Rule">The rule name, for example <c>identifier.fi-hetu</c>.</param>
/// <param name="Description">What it is, in words.</param>
public sealed record IdentifierKind(string Rule, string Description)
{
    /// <summary>Finnish personal identity code (HETU), check character valid.</summary>
    public static IdentifierKind FinnishHetu { get; } = new("identifier.fi-hetu", "a Finnish personal identity code (HETU) with a valid check character");

    /// <summary>Swedish personnummer, Luhn valid.</summary>
    public static IdentifierKind SwedishPersonnummer { get; } = new("identifier.se-personnummer", "a Swedish personnummer with a valid check digit");

    /// <summary>Swedish samordningsnummer (day + 60), Luhn valid.</summary>
    public static IdentifierKind SwedishSamordningsnummer { get; } = new("identifier.se-samordningsnummer", "a Swedish samordningsnummer with a valid check digit");

    /// <summary>Norwegian fødselsnummer (or D/H-number), both check digits valid.</summary>
    public static IdentifierKind NorwegianFodselsnummer { get; } = new("identifier.no-fodselsnummer", "a Norwegian fødselsnummer with valid check digits");

    /// <summary>Danish CPR number whose modulus-11 check holds.</summary>
    public static IdentifierKind DanishCpr { get; } = new("identifier.dk-cpr", "a Danish CPR number (valid date and modulus-11 check)");

    /// <summary>Danish CPR shape with a valid date but without the modulus-11 check (issued since 2007 without it, or not a CPR).</summary>
    public static IdentifierKind DanishCprUnchecked { get; } = new("identifier.dk-cpr-unchecked",
        "the shape of a Danish CPR number (DDMMYY-SSSS, valid date) without the modulus-11 check, which numbers issued since 2007 need not have");

    /// <summary>Estonian isikukood, check digit valid.</summary>
    public static IdentifierKind EstonianIsikukood { get; } = new("identifier.ee-isikukood", "an Estonian personal identification code with a valid check digit");

    /// <summary>E-mail address.</summary>
    public static IdentifierKind Email { get; } = new("identifier.email", "an e-mail address");

    /// <summary>International phone number.</summary>
    public static IdentifierKind Phone { get; } = new("identifier.phone", "an international phone number (+ and 8–15 digits)");

    /// <summary>IBAN, mod-97 valid.</summary>
    public static IdentifierKind Iban { get; } = new("identifier.iban", "an IBAN with a valid mod-97 check");

    /// <summary>IPv4 address.</summary>
    public static IdentifierKind IPv4 { get; } = new("identifier.ipv4", "an IPv4 address");

    /// <summary>IPv6 address.</summary>
    public static IdentifierKind IPv6 { get; } = new("identifier.ipv6", "an IPv6 address");
}

/// <summary>One identifier found: its kind and where (1-based line and character column); never its value.</summary>
public sealed record IdentifierMatch(IdentifierKind Kind, int Line, int Column);
