using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace OpenSpe.Cli.Output;

/// <summary>How the CLI reads times people type (<c>--since</c>, <c>--until</c>) and how it prints times for people.</summary>
internal static class TimeText
{
    /// <summary>The accepted forms, for help texts and error messages.</summary>
    public const string Accepted = "an ISO 8601 time with an offset (2026-12-01T09:30:00Z, 2026-12-01T10:30:00+01:00), "
        + "a date (2026-12-01, meaning 00:00 UTC), today, yesterday, or a time back from now (30m, 24h, 7d)";

    private static readonly string[] InstantFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mmK",
    ];

    /// <summary>A time for a table or field list: UTC, to the second (<c>2026-12-01 09:30:00Z</c>). JSON output keeps the API's form.</summary>
    public static string? ForPeople(DateTimeOffset? time) =>
        time?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Reads <paramref name="text"/> as <see cref="Accepted"/> says. A time without an offset is refused rather than read in
    /// the machine's zone: the same command on the auditor's laptop and on the server must mean the same instant.
    /// </summary>
    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        switch (value.ToLowerInvariant())
        {
            case "now":
                time = now;
                return true;
            case "today":
                time = today;
                return true;
            case "yesterday":
                time = today.AddDays(-1);
                return true;
        }

        if (value.Length >= 2 && char.ToLowerInvariant(value[^1]) is 'm' or 'h' or 'd'
            && int.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) && amount <= 100_000)
        {
            time = char.ToLowerInvariant(value[^1]) switch
            {
                'm' => now.AddMinutes(-amount),
                'h' => now.AddHours(-amount),
                _ => now.AddDays(-amount),
            };
            return true;
        }

        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            time = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return true;
        }

        // 'K' also matches an empty offset, so the text must end in Z or ±hh:mm to count as an instant.
        var hasOffset = value.EndsWith('Z') || value.EndsWith('z')
            || (value.Length > 6 && value[^6] is '+' or '-' && value[^3] == ':');
        return DateTimeOffset.TryParseExact(value.ToUpperInvariant(), InstantFormats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out time) && hasOffset;
    }

    /// <summary>An option that takes a time in any <see cref="Accepted"/> form and says what is accepted when it cannot read one.</summary>
    public static Option<DateTimeOffset?> Option(string name, string description, TimeProvider? clock = null) => new(name)
    {
        Description = $"{description} Accepts {Accepted}.",
        HelpName = "time",
        CustomParser = result => Parse(result, name, clock ?? TimeProvider.System),
    };

    private static DateTimeOffset? Parse(ArgumentResult result, string name, TimeProvider clock)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        if (TryParse(text, clock.GetUtcNow(), out var time))
        {
            return time;
        }

        result.AddError($"{name} '{text}' is not a time: use {Accepted}");
        return null;
    }
}
