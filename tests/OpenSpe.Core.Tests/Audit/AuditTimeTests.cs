using OpenSpe.Core.Audit;

namespace OpenSpe.Core.Tests.Audit;

public sealed class AuditTimeTests
{
    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Micros_RoundTripExactly()
    {
        var time = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero).AddTicks(1_234_560);

        var micros = AuditTime.ToMicros(time);

        Assert.Equal(1_772_600_767_123_456, micros);
        Assert.Equal(time, AuditTime.FromMicros(micros));
        Assert.Equal(micros, AuditTime.ToMicros(AuditTime.FromMicros(micros)));
    }

    [Fact]
    public void ToMicros_DropsSubMicrosecondTicks()
    {
        var time = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(19);

        Assert.Equal(AuditTime.ToMicros(time.AddTicks(-9)), AuditTime.ToMicros(time));
        Assert.Equal(time.AddTicks(-9), AuditTime.FromMicros(AuditTime.ToMicros(time)));
    }

    [Fact]
    public void ToMicros_UsesUtcInstantWhateverTheOffset()
    {
        var utc = new DateTimeOffset(2026, 6, 1, 10, 0, 0, TimeSpan.Zero);
        var local = utc.ToOffset(TimeSpan.FromHours(2));

        Assert.Equal(AuditTime.ToMicros(utc), AuditTime.ToMicros(local));
        Assert.Equal(TimeSpan.Zero, AuditTime.FromMicros(AuditTime.ToMicros(local)).Offset);
    }

    [Fact]
    public void Epoch_IsZero()
    {
        Assert.Equal(0, AuditTime.ToMicros(DateTimeOffset.UnixEpoch));
        Assert.Equal("1970-01-01T00:00:00.000000Z", AuditTime.Format(0));
    }

    [Theory]
    [InlineData(1_772_600_767_123_456, "2026-03-04T05:06:07.123456Z")]
    [InlineData(1_772_600_767_000_001, "2026-03-04T05:06:07.000001Z")]
    [InlineData(1_772_600_767_000_000, "2026-03-04T05:06:07.000000Z")]
    public void Format_IsUtcWithSixFractionalDigits(long micros, string expected)
    {
        Assert.Equal(expected, AuditTime.Format(micros));
    }

    [Fact]
    public void Format_ParsesBackToTheSameMicros()
    {
        const long micros = 1_772_600_767_654_321;

        var parsed = DateTimeOffset.Parse(AuditTime.Format(micros), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);

        Assert.Equal(micros, AuditTime.ToMicros(parsed));
    }
}
