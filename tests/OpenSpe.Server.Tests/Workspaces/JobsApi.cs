using System.Net.Http.Json;
using System.Text.Json;

namespace OpenSpe.Server.Tests.Workspaces;

/// <summary>The jobs API as a test calls it.</summary>
internal static class JobsApi
{
    public static Task<HttpResponseMessage> RunAsync(HttpClient client, string projectId, object body) =>
        client.PostAsJsonAsync($"/api/v1/projects/{projectId}/jobs", body);

    /// <summary>Submits a command and returns the job's id (asserting 202).</summary>
    public static async Task<string> StartAsync(HttpClient client, string projectId, params string[] command)
    {
        var response = await RunAsync(client, projectId, new { command });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>Reads the job's log (following it until it ends when <paramref name="follow"/>), bounded by a generous timeout.</summary>
    public static async Task<List<JobLogEntry>> LogAsync(HttpClient client, string projectId, string jobId, bool follow = true)
    {
        using var response = await client.GetAsync($"/api/v1/projects/{projectId}/jobs/{jobId}/logs?follow={(follow ? "true" : "false")}", HttpCompletionOption.ResponseHeadersRead)
            .WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var text = await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<JobLogEntry>(l, JsonSerializerOptions.Web)!)];
    }

    /// <summary>The job's text of one stream.</summary>
    public static string Text(IEnumerable<JobLogEntry> log, string stream) => string.Concat(log.Where(e => e.Stream == stream).Select(e => e.Text));

    public static async Task<JobView> ShowAsync(HttpClient client, string projectId, string jobId) =>
        (await client.GetFromJsonAsync<JobView>($"/api/v1/projects/{projectId}/jobs/{jobId}", JsonSerializerOptions.Web))!;
}
