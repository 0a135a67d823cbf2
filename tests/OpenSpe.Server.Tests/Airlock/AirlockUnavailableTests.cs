using System.Net;
using System.Net.Http.Json;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Workspaces;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>With <c>Workspaces:Runtime=none</c> no output can be read: exports are answered 503 with a clear problem, as jobs are.</summary>
public sealed class AirlockUnavailableTests
{
    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    public async Task Without_a_runtime_an_export_is_503_and_nothing_is_stored()
    {
        await using var f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Workspaces:Runtime"] = "none" });
        var (_, projectId) = await f.IssueAsync(AirlockSandbox.Document(2, "HDAB-FI-2026-0050").Also(d => d["dataUsers"] = new[] { new { account = "researcher" } }));
        using var researcher = await f.Server.ClientForAccountAsync("researcher");

        var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{projectId}/exports", new { files = new[] { "t1.csv" }, reason = "x" });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(ErrorCodes.AirlockUnavailable, problem.GetProperty("code").GetString());
        Assert.Contains("Workspaces:Runtime", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("[]", await researcher.GetStringAsync($"/api/v1/projects/{projectId}/exports", TestContext.Current.CancellationToken));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    public async Task Without_a_runtime_the_outputs_listing_is_503_with_the_airlock_code()
    {
        await using var f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Workspaces:Runtime"] = "none" });
        var (_, projectId) = await f.IssueAsync(AirlockSandbox.Document(2, "HDAB-FI-2026-0051").Also(d => d["dataUsers"] = new[] { new { account = "researcher" } }));
        using var researcher = await f.Server.ClientForAccountAsync("researcher");

        var response = await researcher.GetAsync($"/api/v1/projects/{projectId}/outputs");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(ErrorCodes.AirlockUnavailable, problem.GetProperty("code").GetString());
        Assert.Contains("Workspaces:Runtime", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
