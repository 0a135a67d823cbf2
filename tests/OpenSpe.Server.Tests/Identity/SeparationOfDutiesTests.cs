using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// The separation-of-duties table, every pair of roles, through the admin API with real sign-ins.
/// The expectation is written here by hand from docs/separation-of-duties.md (and that page is checked
/// against it), not read from the code's table.
/// </summary>
public sealed partial class SeparationOfDutiesTests(SharedServer shared) : IClassFixture<SharedServer>
{
    // Hand-written: the pairs one person may never hold together (either order).
    private static readonly HashSet<(string, string)> Forbidden =
    [
        ("admin", "hdab"), ("admin", "researcher"), ("admin", "data-holder"), ("admin", "output-checker"), ("admin", "auditor"),
        ("operator", "hdab"), ("operator", "researcher"), ("operator", "data-holder"), ("operator", "output-checker"), ("operator", "auditor"),
        ("auditor", "hdab"), ("auditor", "researcher"), ("auditor", "data-holder"), ("auditor", "output-checker"),
        ("hdab", "researcher"), ("hdab", "data-holder"),
    ];

    // Hand-written: the roles whose grant waits for a second admin.
    private static readonly HashSet<string> FourEyes = ["admin", "operator", "hdab", "auditor", "output-checker"];

    private static readonly string[] Roles = ["hdab", "output-checker", "data-holder", "researcher", "operator", "auditor", "admin"];

    private readonly SpeTestServer _server = shared.Server;

    public static TheoryData<string, string> Pairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var a in Roles)
        {
            foreach (var b in Roles.Where(b => b != a))
            {
                data.Add(a, b);
            }
        }

        return data;
    }

    private static bool Conflict(string a, string b) => Forbidden.Contains((a, b)) || Forbidden.Contains((b, a));

    [Theory]
    [MemberData(nameof(Pairs))]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-2")]
    public async Task Granting_a_role_beside_a_held_one_follows_the_table(string held, string granted)
    {
        using var admin = await _server.ClientForAccountAsync("admin");
        var name = $"p-{held}-{granted}";
        await _server.EnsureAccountAsync(name, held);

        var response = await admin.PutAsync($"/api/v1/admin/users/{name}/roles/{granted}", null);

        if (Conflict(held, granted))
        {
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
            Assert.Contains("cannot be held by one person", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal([held], await RolesAsync(name));
        }
        else
        {
            Assert.Equal(FourEyes.Contains(granted) ? HttpStatusCode.Accepted : HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(FourEyes.Contains(granted) ? [held] : new[] { held, granted }.Order(StringComparer.Ordinal).ToArray(), await RolesAsync(name));
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-2")]
    public async Task Creating_an_account_with_two_roles_follows_the_table(string first, string second)
    {
        using var admin = await _server.ClientForAccountAsync("admin");
        var name = $"c-{first}-{second}";

        var response = await admin.PostAsJsonAsync("/api/v1/admin/users", new { username = name, roles = new[] { first, second } });

        if (Conflict(first, second))
        {
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
            using var list = await admin.GetAsync("/api/v1/admin/users");
            Assert.DoesNotContain(name, await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            var pending = body.GetProperty("pendingApproval").EnumerateArray().Select(r => r.GetString()!).Order(StringComparer.Ordinal);
            Assert.Equal(new[] { first, second }.Where(FourEyes.Contains).Order(StringComparer.Ordinal), pending);
            Assert.Equal(new[] { first, second }.Where(r => !FourEyes.Contains(r)).Order(StringComparer.Ordinal), await RolesAsync(name));
        }
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-2")]
    public async Task The_table_is_checked_against_pending_grants_and_again_at_approval()
    {
        using var admin = await _server.ClientForAccountAsync("admin");
        using var admin2 = await _server.ClientAsAsync("admin2", "admin");
        await admin.PostAsJsonAsync("/api/v1/admin/users", new { username = "eve", roles = Array.Empty<string>() });

        var hdabRequest = await admin.PutAsync("/api/v1/admin/users/eve/roles/hdab", null);
        var researcherBesidePending = await admin.PutAsync("/api/v1/admin/users/eve/roles/researcher", null);
        var approvalId = (await hdabRequest.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString();
        // Another path gave eve data-holder after the request (an account store edit, as by a second instance or an older version).
        await _server.EnsureAccountAsync("eve", "data-holder");
        var approval = await admin2.PostAsync($"/api/v1/admin/role-grants/{approvalId}/approve", null);

        Assert.Equal(HttpStatusCode.Accepted, hdabRequest.StatusCode);
        await ProblemAssert.IsProblemAsync(researcherBesidePending, HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(approval, HttpStatusCode.Forbidden);
        Assert.Equal(["data-holder"], await RolesAsync("eve"));
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public async Task An_account_holding_conflicting_roles_reaches_no_project()
    {
        await using var f = await PermitFixture.StartAsync();
        await f.Server.EnsureAccountAsync("mallory", "researcher");
        var (_, projectId) = await f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), "HDAB-SOD-1", "mallory"));
        using var before = await f.Server.ClientForAccountAsync("mallory");
        var allowed = await before.GetAsync($"/api/v1/projects/{projectId}");
        await f.Server.EnsureAccountAsync("mallory", "researcher", "operator");
        using var after = await f.Server.ClientForAccountAsync("mallory");

        var refused = await after.GetAsync($"/api/v1/projects/{projectId}");

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Forbidden);
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public async Task An_hdab_officer_cannot_name_themselves_or_a_service_account_in_a_permit()
    {
        await using var f = await PermitFixture.StartAsync();
        using var hdab = await f.Server.ClientForAccountAsync("hdab");
        await f.Server.EnsureAccountAsync("hdab-holder", "data-holder");

        var asUser = await hdab.PostAsJsonAsync("/api/v1/permits", PermitFixture.Document(PermitFixture.Start, PermitFixture.Start.AddDays(30), "HDAB-SOD-2", "researcher", "hdab"));
        var operatorAsUser = await hdab.PostAsJsonAsync("/api/v1/permits", PermitFixture.Document(PermitFixture.Start, PermitFixture.Start.AddDays(30), "HDAB-SOD-3", "operator"));
        var asHolder = PermitFixture.Document(PermitFixture.Start, PermitFixture.Start.AddDays(30), "HDAB-SOD-4");
        asHolder["datasets"] = new[] { new { id = "d1", title = "D1", holder = "hdab" } };
        var holderResponse = await hdab.PostAsJsonAsync("/api/v1/permits", asHolder);

        var userErrors = (await ProblemAssert.IsProblemAsync(asUser, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(userErrors.TryGetProperty("dataUsers[1].account", out _), userErrors.ToString());
        Assert.True((await ProblemAssert.IsProblemAsync(operatorAsUser, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("dataUsers[0].account", out _));
        Assert.True((await ProblemAssert.IsProblemAsync(holderResponse, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("datasets[0].holder", out _));
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public void The_documented_table_matches_the_tested_table()
    {
        var page = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "separation-of-duties.md"));
        var rows = page.Split('\n').Where(l => RowPattern().IsMatch(l)).ToList();
        var header = page.Split('\n').First(l => l.StartsWith("| |", StringComparison.Ordinal)).Split('|', StringSplitOptions.TrimEntries)[2..^1];

        Assert.Equal(Roles.Length, rows.Count);
        foreach (var row in rows)
        {
            var cells = row.Split('|', StringSplitOptions.TrimEntries)[1..^1];
            var role = cells[0].Trim('*');
            for (var i = 0; i < header.Length; i++)
            {
                if (header[i] != role)
                {
                    Assert.True((cells[i + 1] == "✗") == Conflict(role, header[i]), $"docs say {role}/{header[i]} is '{cells[i + 1]}'");
                }
            }
        }

        // And the code's table says the same.
        foreach (var a in Roles)
        {
            foreach (var b in Roles.Where(b => b != a))
            {
                Assert.True((SeparationOfDuties.Between(a, b) is not null) == Conflict(a, b), $"code disagrees on {a}/{b}");
            }
        }

        Assert.Equal(FourEyes.Order(StringComparer.Ordinal), SeparationOfDuties.NeedsApproval.Order(StringComparer.Ordinal));
    }

    private async Task<string[]> RolesAsync(string username)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<SpeUser>>();
        return [.. (await users.GetRolesAsync((await users.FindByNameAsync(username))!)).Order(StringComparer.Ordinal)];
    }

    [GeneratedRegex(@"^\| \*\*[a-z-]+\*\* \|")]
    private static partial Regex RowPattern();
}
