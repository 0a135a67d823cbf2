using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Permits;

/// <summary>A dev server on a controllable clock, with intent methods: issue a permit as the HDAB, act as a named person.</summary>
public sealed class PermitFixture : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private PermitFixture(SpeTestServer server, FakeTimeProvider clock)
    {
        Server = server;
        Clock = clock;
    }

    public SpeTestServer Server { get; }

    public FakeTimeProvider Clock { get; }

    public static async Task<PermitFixture> StartAsync(IDictionary<string, string?>? settings = null, TestBackend backend = TestBackend.Sqlite, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? services = null,
        Action<Microsoft.AspNetCore.Builder.WebApplication>? map = null)
    {
        var clock = new FakeTimeProvider(Start);
        var server = await SpeTestServer.StartAsync(backend, settings, map, time: clock, services: services);
        return new PermitFixture(server, clock);
    }

    /// <summary>A permit document valid from <paramref name="from"/> to <paramref name="until"/> naming researcher and researcher2.</summary>
    public static Dictionary<string, object?> Document(DateTimeOffset from, DateTimeOffset until, string reference = "HDAB-FI-2026-0042", params string[] users) => new()
    {
        ["reference"] = reference,
        ["title"] = "Diabetes outcomes after bariatric surgery",
        ["purpose"] = "scientific-research",
        ["legalBasis"] = "EHDS Article 53(1)(e)",
        ["validFrom"] = from,
        ["validUntil"] = until,
        ["datasets"] = new[] { new { id = "omop-2026", title = "OMOP CDM extract", holder = "holder" } },
        ["dataUsers"] = (users.Length == 0 ? ["researcher", "researcher2"] : users).Select(u => new { account = u }).ToArray(),
        ["policies"] = new { workspaceKinds = new[] { "job" }, clipboard = "none", airlock = new { reviewersRequired = 2 } },
    };

    /// <summary>Issues a permit as the HDAB; returns (permitId, projectId).</summary>
    public async Task<(string PermitId, string ProjectId)> IssueAsync(Dictionary<string, object?> document)
    {
        using var hdab = await Server.ClientForAccountAsync("hdab");
        var response = await hdab.PostAsJsonAsync("/api/v1/permits", document);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        var json = JsonDocument.Parse(body).RootElement;
        return (json.GetProperty("id").GetString()!, json.GetProperty("projectId").GetString()!);
    }

    public async Task<HttpStatusCode> GetAsAsync(string username, string path)
    {
        using var client = await Server.ClientForAccountAsync(username);
        return (await client.GetAsync(path)).StatusCode;
    }

    public async Task<HttpResponseMessage> PostAsAsync(string username, string path, object body)
    {
        using var client = await Server.ClientForAccountAsync(username);
        return await client.PostAsJsonAsync(path, body);
    }

    public async Task<string> StateAsync(string permitId)
    {
        using var hdab = await Server.ClientForAccountAsync("hdab");
        return (await hdab.GetFromJsonAsync<JsonElement>($"/api/v1/permits/{permitId}")).GetProperty("state").GetString()!;
    }

    /// <summary>Waits for the lifecycle service (woken by the clock) to bring the permit to <paramref name="state"/>.</summary>
    public async Task WaitForStateAsync(string permitId, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await StateAsync(permitId) != state)
        {
            Assert.True(DateTime.UtcNow < deadline, $"permit did not become {state}");
            await Task.Delay(20);
        }
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
