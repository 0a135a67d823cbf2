using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Transfers;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// One server for <see cref="AccessTableTests"/>, arranged through the API with real sign-ins: a real project whose permit
/// names a researcher, two holders of two datasets and an application; a second project under an emergency halt; a third
/// whose permit has expired (the clock is moved past its <c>validUntil</c> before anyone else signs in); one finished file
/// uploaded by the second holder and one unfinished upload of the first holder.
/// </summary>
public sealed class AccessTableFixture : IAsyncLifetime
{
    /// <summary>The application the permit names.</summary>
    public const string NamedApplication = "table-app";

    /// <summary>Dataset held by <c>holder</c>.</summary>
    public const string HolderDataset = "omop-2026";

    /// <summary>Dataset held by <c>holder2</c>.</summary>
    public const string Holder2Dataset = "registry-2026";

    private readonly List<HttpClient> _clients = [];

    public SpeTestServer Server { get; private set; } = null!;

    public FakeTimeProvider Clock { get; } = new(PermitFixture.Start);

    public string PermitId { get; private set; } = "";

    public string ProjectId { get; private set; } = "";

    public string HaltedPermitId { get; private set; } = "";

    public string HaltedProjectId { get; private set; } = "";

    public string ExpiredPermitId { get; private set; } = "";

    public string ExpiredProjectId { get; private set; } = "";

    /// <summary>The id (last path segment) of the first holder's unfinished upload in the real project.</summary>
    public string UploadId { get; private set; } = "";

    /// <summary>The principals, in the order of the table's columns.</summary>
    public IReadOnlyDictionary<string, Principal> Principals { get; private set; } = new Dictionary<string, Principal>();

    public async ValueTask InitializeAsync()
    {
        Server = await SpeTestServer.StartAsync(time: Clock, settings: new Dictionary<string, string?>
        {
            ["RateLimiting:PerAddressBurst"] = "100000",
            ["RateLimiting:PerAddressPerSecond"] = "100000",
            ["RateLimiting:PerIdentityBurst"] = "100000",
            ["RateLimiting:PerIdentityPerSecond"] = "100000",
        });
        await Server.EnsureAccountAsync("holder2", SpeRoles.DataHolder);
        using var hdab = await Server.ClientForAccountAsync("hdab");

        // The expired permit first: issued valid for one more hour, then the clock moves two hours on, before any other sign-in.
        (ExpiredPermitId, ExpiredProjectId) = await IssueAsync(hdab, Document("HDAB-FI-2026-0901", PermitFixture.Start.AddHours(1), [new { account = "researcher" }]));
        Clock.Advance(TimeSpan.FromHours(2));

        var namedApp = await Server.ApplicationTokenAsync(NamedApplication);
        var otherApp = await Server.ApplicationTokenAsync("table-other-app");
        using var hdabNow = await Server.ClientForAccountAsync("hdab");
        (PermitId, ProjectId) = await IssueAsync(hdabNow, Document("HDAB-FI-2026-0902", Clock.GetUtcNow().AddDays(30),
            [new { account = "researcher" }, new { application = NamedApplication }]));
        (HaltedPermitId, HaltedProjectId) = await IssueAsync(hdabNow, Document("HDAB-FI-2026-0903", Clock.GetUtcNow().AddDays(30), [new { account = "researcher" }]));
        using (var op = await Server.ClientForAccountAsync("operator"))
        {
            var halt = await op.PostAsJsonAsync("/api/v1/halts", new { projectId = HaltedProjectId, reason = "access table: a halted project" });
            Assert.True(halt.StatusCode == HttpStatusCode.Created, await halt.Content.ReadAsStringAsync());
        }

        var holder = Keep(await Server.ClientForAccountAsync("holder"));
        var holder2 = Keep(await Server.ClientForAccountAsync("holder2"));
        await UploadFileAsync(holder2);
        UploadId = await StartUploadAsync(holder);

        var researcher = Keep(await Server.ClientForAccountAsync("researcher"));
        var principals = new Dictionary<string, Principal>(StringComparer.Ordinal)
        {
            ["anon"] = Main(Keep(PinnedHttp.Create(Server.BaseAddress, Server.Info.CertificateFingerprint))),
            // A real password-only sign-in holding every role: only the missing second factor can explain a refusal.
            ["pwd"] = Main(Keep(Server.ClientWithToken(await Server.PasswordOnlyTokenAsync("table-pwd", [.. SpeRoles.All])))),
        };
        // Each account role held alone by an account no permit names.
        foreach (var (column, role) in RoleColumns)
        {
            principals[column] = Main(Keep(await Server.ClientAsAsync("table-" + role, role)));
        }

        principals["mres"] = Main(researcher);
        principals["mhold"] = Main(holder);
        principals["app"] = Main(Keep(Server.ClientWithToken(namedApp)));
        principals["xapp"] = Main(Keep(Server.ClientWithToken(otherApp)));
        principals["halt"] = new Principal(researcher, HaltedProjectId, HaltedPermitId);
        principals["exp"] = new Principal(researcher, ExpiredProjectId, ExpiredPermitId);
        Principals = principals;
    }

    /// <summary>Table column → the role its account holds alone.</summary>
    public static IReadOnlyList<(string Column, string Role)> RoleColumns { get; } =
    [
        ("hdab", SpeRoles.Hdab), ("chk", SpeRoles.OutputChecker), ("hold", SpeRoles.DataHolder), ("res", SpeRoles.Researcher),
        ("op", SpeRoles.Operator), ("aud", SpeRoles.Auditor), ("adm", SpeRoles.Admin),
    ];

    /// <summary>A signed-in client for a dev account or one the fixture made.</summary>
    public async Task<HttpClient> ClientForAsync(string username) => Keep(await Server.ClientForAccountAsync(username));

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await Server.DisposeAsync();
    }

    private Principal Main(HttpClient client) => new(client, ProjectId, PermitId);

    private HttpClient Keep(HttpClient client)
    {
        _clients.Add(client);
        return client;
    }

    private static Dictionary<string, object?> Document(string reference, DateTimeOffset until, object[] users)
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), until, reference);
        document["datasets"] = new[]
        {
            new { id = HolderDataset, title = "OMOP CDM extract", holder = "holder" },
            new { id = Holder2Dataset, title = "Registry extract", holder = "holder2" },
        };
        document["dataUsers"] = users;
        // Note: jobs, desktops and terminals allowed, so the member columns of their rows probe the allowed path, not the permit's refusal.
        document["policies"] = new { workspaceKinds = new[] { "job", "desktop", "terminal" }, fileTypes = new { upload = new[] { "csv" } } };
        return document;
    }

    private static async Task<(string PermitId, string ProjectId)> IssueAsync(HttpClient hdab, Dictionary<string, object?> document)
    {
        var response = await hdab.PostAsJsonAsync("/api/v1/permits", document);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        var json = JsonDocument.Parse(body).RootElement;
        return (json.GetProperty("id").GetString()!, json.GetProperty("projectId").GetString()!);
    }

    private async Task UploadFileAsync(HttpClient holder2)
    {
        var tus = new TusClient(holder2, ProjectId);
        var csv = "person_id,year\n1,2020\n2,2021\n"u8.ToArray();
        var (_, last) = await tus.UploadAsync(TusClient.Encrypt(csv, await tus.ProjectKeyAsync()), Holder2Dataset, "registry.csv", TusClient.Sha256Hex(csv));
        Assert.True(last.StatusCode == HttpStatusCode.NoContent, await last.Content.ReadAsStringAsync());
    }

    private async Task<string> StartUploadAsync(HttpClient holder)
    {
        var created = await new TusClient(holder, ProjectId).CreateAsync(1000, HolderDataset, "cohort.csv", new string('0', 64));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return created.Headers.Location!.OriginalString.Split('/')[^1];
    }
}

/// <summary>A column of the access table: who calls, and which project and permit its route parameters name.</summary>
public sealed record Principal(HttpClient Client, string ProjectId, string PermitId);
