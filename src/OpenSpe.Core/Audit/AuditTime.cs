namespace OpenSpe.Core.Audit;

/// <summary>Audit time is kept as whole microseconds since the Unix epoch so that it round-trips exactly through every store.</summary>
public static class AuditTime
{
    /// <summary>Converts to microseconds since the epoch, dropping sub-microsecond ticks.</summary>
    public static long ToMicros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    /// <summary>Converts microseconds since the epoch back to UTC time.</summary>
    public static DateTimeOffset FromMicros(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);

    /// <summary>The canonical text form: ISO 8601 UTC with six fractional digits.</summary>
    public static string Format(long micros) =>
        FromMicros(micros).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
