namespace OpenSpe.Core.Audit;

/// <summary>Audit time is kept as whole microseconds since the Unix epoch so that it round-trips exactly through every store.</summary>
public static class AuditTime
{
    /// <summary>Converts to microseconds since the epoch, dropping sub-microsecond ticks.</summary>
    public static long ToMicros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    /// <summary>Converts microseconds since the epoch back to UTC time.</summary>
    public static DateTimeOffset FromMicros(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);

    /// <summary>Longest UTF-8 form of <see cref="FormatUtf8"/>.</summary>
    public const int MaxUtf8Length = 32;

    /// <summary>Writes the canonical text form as UTF-8 (no allocation); returns the bytes written.</summary>
    public static int FormatUtf8(long micros, Span<byte> destination)
    {
        if (!FromMicros(micros).UtcDateTime.TryFormat(destination, out var written, "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new ArgumentException("The destination is too small.", nameof(destination));
        }

        return written;
    }

    /// <summary>The canonical text form: ISO 8601 UTC with six fractional digits.</summary>
    public static string Format(long micros) =>
        FromMicros(micros).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
