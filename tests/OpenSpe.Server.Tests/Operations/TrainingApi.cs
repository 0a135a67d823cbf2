using System.Net.Http.Json;
using System.Text.Json;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>The training API as the training tests call it: record one person's training as someone, list the records as someone.</summary>
internal static class TrainingApi
{
    public static async Task<HttpResponseMessage> RecordAsync(PermitFixture f, string who, string account, string role, string completed, string? expires = null)
    {
        using var client = await f.Server.ClientForAccountAsync(who);
        return await client.PostAsJsonAsync("/api/v1/training", new { account, role, course = "EHDS and GDPR for data users", completed, expires }, TestContext.Current.CancellationToken);
    }

    public static async Task<List<JsonElement>> ListAsync(PermitFixture f, string who, string? account)
    {
        using var client = await f.Server.ClientForAccountAsync(who);
        var path = account is null ? "/api/v1/training" : $"/api/v1/training?account={account}";
        return [.. (await client.GetFromJsonAsync<JsonElement>(path, TestContext.Current.CancellationToken)).EnumerateArray()];
    }
}
