using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Api;

namespace OpenSpe.Server.UnitTests.Api;

/// <summary>Instants in request bodies carry a date, a time and an offset; anything the server would read in its own time zone is refused.</summary>
public sealed class RequestInstantTests
{
    private static readonly JsonSerializerOptions Options = RequestOptions();

    private sealed record Body(DateTimeOffset At, DateTimeOffset? Maybe = null);

    private static JsonSerializerOptions RequestOptions()
    {
        var services = new ServiceCollection().AddSpeJson().BuildServiceProvider();
        return services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
    }

    [Theory]
    [InlineData("2026-12-01T00:00:00Z", "2026-12-01T00:00:00+00:00")]
    [InlineData("2026-12-01T09:00:00+02:00", "2026-12-01T07:00:00+00:00")]
    [InlineData("2026-12-01T09:00:00.5-05:30", "2026-12-01T14:30:00.5+00:00")]
    public void An_instant_with_an_offset_is_read(string text, string utc)
    {
        var body = JsonSerializer.Deserialize<Body>($$"""{"at":"{{text}}"}""", Options)!;

        Assert.Equal(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), body.At);
    }

    [Theory]
    [InlineData("\"2026-12-01\"")]
    [InlineData("\"2026-12-01T00:00:00\"")]
    [InlineData("\"2026-12-01T00:00\"")]
    [InlineData("\"2026-12-01T00:00:00+0200\"")]
    [InlineData("\"2026-13-01T00:00:00Z\"")]
    [InlineData("\"tomorrow\"")]
    [InlineData("1796083200")]
    [InlineData("\"\"")]
    [Trait("Requirement", "TIR-9")]
    public void An_instant_without_a_time_and_an_offset_is_refused_with_the_field_named(string value)
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Body>($$"""{"at":{{value}}}""", Options));

        Assert.Equal("$.at", error.Path);
        Assert.StartsWith("A time must be an ISO 8601 date and time with an offset", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_nullable_instant_is_held_to_the_same_rule()
    {
        Assert.Null(JsonSerializer.Deserialize<Body>("""{"at":"2026-12-01T00:00:00Z","maybe":null}""", Options)!.Maybe);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Body>("""{"at":"2026-12-01T00:00:00Z","maybe":"2026-12-01"}""", Options));
    }

    [Fact]
    public void Instants_are_written_as_before()
    {
        var at = new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.FromHours(2));

        Assert.Equal(JsonSerializer.Serialize(at, JsonSerializerOptions.Web), JsonSerializer.Serialize(at, Options));
    }
}
