using System.Net;
using System.Net.Http.Json;
using System.Text;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>The airlock's tables on PostgreSQL: a request, two independent approvals, one checker's second decision refused, the download.</summary>
public sealed class PostgresAirlockTests : IAsyncLifetime
{
    private AirlockSandbox _w = null!;

    public async ValueTask InitializeAsync() => _w = await AirlockSandbox.StartAsync(backend: TestBackend.PostgreSql);

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    public async Task An_export_is_released_by_two_checkers_and_downloads_on_postgresql()
    {
        await _w.RunAsync("printf 'a,b\\n1,2\\n' > /outputs/r.csv");
        var request = await _w.RequestOkAsync("r.csv");

        var first = await _w.ReviewAsync("checker", request.Id, new { decision = "approve", comment = "ok" });
        var again = await _w.ReviewAsync("checker", request.Id, new { decision = "approve", comment = "twice" });
        var second = await _w.ReviewAsync("checker2", request.Id, new { decision = "approve", comment = "ok" });
        var download = await _w.DownloadAsync(_w.Researcher, request.Id, "r.csv");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("a,b\n1,2\n", Encoding.UTF8.GetString(await download.Content.ReadAsByteArrayAsync()));
        Assert.Equal(2, (await _w.Researcher.GetFromJsonAsync<AirlockRequestView>($"{_w.Exports}/{request.Id}"))!.Files[0].Approvals);
    }
}
