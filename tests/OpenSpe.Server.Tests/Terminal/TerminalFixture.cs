using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Desktop;
using OpenSpe.Server.Terminal;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Transfers;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Terminal;

/// <summary>
/// One dev server for the terminal tests, on a controllable clock, whose terminals are real shells on real PTYs in real bubblewrap
/// sandboxes (the server's own runtime, on throw-away directories and a uid range of its own). Terminal input messages are bounded
/// at <see cref="MaxInput"/> bytes so an oversized one is cheap to send.
/// </summary>
public sealed class TerminalFixture : IAsyncLifetime
{
    /// <summary>The bound on one input message in this fixture.</summary>
    public const int MaxInput = 4096;

    /// <summary>The dataset file every permit of <see cref="IssueAsync"/> can stage, once uploaded with <see cref="UploadAsync"/>.</summary>
    public static readonly byte[] Csv = Encoding.UTF8.GetBytes("id,age\n1,34\n2,58\n");

    private static int instances;
    private readonly string _name = "openspe-term-test-" + Guid.NewGuid().ToString("N")[..12];

    public PermitFixture Permits { get; private set; } = null!;

    public SpeTestServer Server => Permits.Server;

    public ValueTask InitializeAsync() => new(StartAsync());

    /// <summary>Starts the server with <paramref name="extra"/> settings besides the fixture's own.</summary>
    public async Task StartAsync(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Terminal:MaxInputMessageBytes"] = MaxInput.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Workspaces:Runtime"] = "bubblewrap",
            ["Workspaces:Root"] = Path.Join(Path.GetTempPath(), _name),
            ["Workspaces:PlaintextRoot"] = Path.Join("/dev/shm", _name),
            // Note: a uid range per fixture and process, so parallel test classes and runs never share a project uid.
            ["Workspaces:UidRangeStart"] = (700_000 + (Environment.ProcessId % 1000 * 100) + (Interlocked.Increment(ref instances) % 10 * 10_000)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Workspaces:UidRangeSize"] = "100",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        Permits = await PermitFixture.StartAsync(settings);
    }

    public async ValueTask DisposeAsync()
    {
        await Permits.DisposeAsync();
        foreach (var directory in new[] { Path.Join(Path.GetTempPath(), _name), Path.Join("/dev/shm", _name) })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Skips (or fails under SPE_REQUIRE_ALL=1) when sandboxes or the PTY helper's Python cannot run here.</summary>
    public void RequireTerminal()
    {
        var runtime = Server.Services.GetRequiredService<IWorkspaceRuntime>().Availability;
        if (!runtime.IsAvailable || !File.Exists("/usr/bin/python3") || !File.Exists("/bin/bash"))
        {
            Requirements.Missing("terminals need bubblewrap sandboxes, /usr/bin/python3 and /bin/bash (apt-get install bubblewrap python3-minimal): " + runtime.Reason);
        }
    }

    /// <summary>Issues a permit naming researcher and researcher2 that allows the <paramref name="kinds"/> with <paramref name="clipboard"/>.</summary>
    public async Task<(string PermitId, string ProjectId)> IssueAsync(string clipboard = "none", string[]? kinds = null, int idleMinutes = 15, string? reference = null) =>
        await Permits.IssueAsync(PolicyDocument(reference ?? "HDAB-TERM-" + Guid.NewGuid().ToString("N")[..8], clipboard, kinds, idleMinutes));

    /// <summary>Amends the permit of <paramref name="reference"/> (issued by <see cref="IssueAsync"/>) to other policies, as the HDAB.</summary>
    public async Task AmendAsync(string permitId, string reference, string clipboard, string[] kinds)
    {
        using var response = await Permits.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/amendments", PolicyDocument(reference, clipboard, kinds, 15));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static Dictionary<string, object?> PolicyDocument(string reference, string clipboard, string[]? kinds, int idleMinutes)
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(60), reference);
        document["policies"] = new { workspaceKinds = kinds ?? ["terminal", "desktop"], clipboard, idleTimeoutMinutes = idleMinutes, fileTypes = new { upload = new[] { "csv" } } };
        return document;
    }

    /// <summary>Uploads <see cref="Csv"/> as the holder through the real encrypted upload path (dataset omop-2026, cohort.csv).</summary>
    public async Task UploadAsync(string projectId)
    {
        using var holder = await Server.ClientForAccountAsync("holder");
        var tus = new TusClient(holder, projectId);
        await tus.UploadAsync(TusClient.Encrypt(Csv, await tus.ProjectKeyAsync()), "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv));
    }

    public Uri TerminalUri(string projectId, string? ticket = null, string kind = "terminal") =>
        new($"wss://{Server.BaseAddress.Authority}/api/v1/projects/{projectId}/{kind}" + (ticket is null ? "" : "?ticket=" + Uri.EscapeDataString(ticket)));

    public ClientWebSocket NewSocket()
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())) == Server.Info.CertificateFingerprint;
        return socket;
    }

    /// <summary>Opens the terminal as <paramref name="username"/> with a bearer token, accepting the terms.</summary>
    public async Task<TerminalTestClient> OpenAsync(string username, string projectId)
    {
        var socket = NewSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + await Server.TokenForAccountAsync(username));
        socket.Options.SetRequestHeader(DesktopProtocol.TermsHeader, TermsVersion);
        await socket.ConnectAsync(TerminalUri(projectId), TestContext.Current.CancellationToken);
        return new TerminalTestClient(socket);
    }

    /// <summary>Tries to open <paramref name="uri"/>; returns the HTTP status the upgrade got (101 when it opened, then closed at once).</summary>
    public async Task<int> TryOpenAsync(Uri uri, string? token, bool acceptTerms = true, string? origin = null)
    {
        using var socket = NewSocket();
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        if (acceptTerms)
        {
            socket.Options.SetRequestHeader(DesktopProtocol.TermsHeader, TermsVersion);
        }

        try
        {
            await socket.ConnectAsync(uri, TestContext.Current.CancellationToken);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, TestContext.Current.CancellationToken);
            return 101;
        }
        catch (WebSocketException)
        {
            return (int)socket.HttpStatusCode;
        }
    }

    public static string TermsVersion => new DesktopOptions().TermsVersion;

    /// <summary>A ticket of <paramref name="kind"/> for <paramref name="projectId"/> as <paramref name="username"/>, accepting the terms.</summary>
    public async Task<string> TicketAsync(string username, string projectId, string kind = "terminal")
    {
        var response = await Permits.PostAsAsync(username, $"/api/v1/projects/{projectId}/{kind}/tickets", new { acceptTerms = true, termsVersion = TermsVersion });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("ticket").GetString()!;
    }

    /// <summary>The shells of <paramref name="projectId"/>'s open terminals.</summary>
    public IReadOnlyList<IWorkspaceProcess> Shells(string projectId) => Server.Services.GetRequiredService<TerminalSessions>().Shells(projectId);

    public Task<List<OpenSpe.Core.Audit.AuditRow>> AuditAsync(string projectId, string? action = null) =>
        Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: action, ProjectId: projectId));

    /// <summary>Waits for the session's closed record (written after the WebSocket closed).</summary>
    public async Task<OpenSpe.Core.Audit.AuditRow> ClosedRecordAsync(string projectId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if ((await AuditAsync(projectId, "terminal.session.closed")).LastOrDefault() is { } row)
            {
                return row;
            }

            Assert.True(DateTime.UtcNow < deadline, "no terminal.session.closed record");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public static string Detail(OpenSpe.Core.Audit.AuditRow row, string name) =>
        JsonDocument.Parse(row.DetailsJson).RootElement.TryGetProperty(name, out var value) ? value.GetString() ?? "" : "";
}
