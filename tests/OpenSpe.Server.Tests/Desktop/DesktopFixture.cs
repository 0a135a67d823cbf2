using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Desktop;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Desktop;

/// <summary>
/// One dev server for the desktop tests, on a controllable clock, whose desktops are real Xtigervnc servers in real bubblewrap
/// sandboxes (the server's own runtime, on throw-away directories and a uid range of its own). Each desktop also runs a probe that
/// serves the X clipboard's contents on <c>/run/workspace/clip.sock</c>, so a test can see whether a cut text reached the VNC
/// server.
/// </summary>
public sealed class DesktopFixture : IAsyncLifetime
{
    /// <summary>
    /// The probe: answers each connection with the CLIPBOARD selection as xclip reads it inside the desktop.
    /// </summary>
    public const string ClipboardProbe = """
        exec /usr/bin/python3 -c '
        import socket, subprocess
        s = socket.socket(socket.AF_UNIX)
        s.bind("/run/workspace/clip.sock")
        s.listen(4)
        while True:
            c, _ = s.accept()
            try:
                r = subprocess.run(["/usr/bin/xclip", "-o", "-selection", "clipboard"], capture_output=True, timeout=5)
                out = b"clipboard=" + r.stdout + b" (" + r.stderr.strip() + b")"
            except subprocess.TimeoutExpired:
                out = b"clipboard: xclip timed out"
            c.sendall(out)
            c.close()
        '
        """;

    /// <summary>
    /// For a browser test: true once the desktop page's noVNC canvas holds a pixel that is not black (the root window's
    /// stipple and the xterm are not; an empty canvas is), i.e. a real frame of the desktop was drawn.
    /// </summary>
    public const string CanvasHasAFrame = """
        () => {
          const canvas = document.querySelector('#screen canvas');
          if (!canvas || canvas.width < 100 || canvas.height < 100) return false;
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 0; i < pixels.length; i += 4) {
            if (pixels[i] | pixels[i + 1] | pixels[i + 2]) return true;
          }
          return false;
        }
        """;

    private static int instances;
    private readonly string _name = "openspe-desk-test-" + Guid.NewGuid().ToString("N")[..12];

    public PermitFixture Permits { get; private set; } = null!;

    public SpeTestServer Server => Permits.Server;

    public bool Available { get; private set; }

    private string WitnessFile => Path.Join(Path.GetTempPath(), _name + "-witness.jsonl");

    public async ValueTask InitializeAsync()
    {
        Available = File.Exists("/usr/bin/Xtigervnc") && File.Exists("/usr/bin/xclip") && File.Exists("/usr/bin/twm");
        Permits = await PermitFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Desktop:Programs:0"] = "/usr/bin/xterm",
            ["Desktop:Programs:1"] = ClipboardProbe,
            // Note: a program that writes more than a pipe holds (64 KiB) to the desktop's standard error, as Jupyter's log does
            // over a day: unless the server reads the desktop's output, the X server's next log line (one per connection)
            // blocks it, and every session after the first hangs.
            ["Desktop:Programs:2"] = "head -c 200000 /dev/zero >&2",
            ["Workspaces:Runtime"] = "bubblewrap",
            ["Workspaces:Root"] = Path.Join(Path.GetTempPath(), _name),
            ["Workspaces:PlaintextRoot"] = Path.Join("/dev/shm", _name),
            // Note: a uid range per fixture and process, so parallel test classes and runs never share a project uid.
            ["Workspaces:UidRangeStart"] = (600_000 + (Environment.ProcessId % 1000 * 100) + (Interlocked.Increment(ref instances) % 10 * 10_000)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Workspaces:UidRangeSize"] = "100",
            // Note: a witness file, so that the auditor's page in the browser tests shows (and axe checks) the witnesses' table.
            ["Audit:Witnesses:Files:0"] = WitnessFile,
        });
        Available = Available && Server.Services.GetRequiredService<IWorkspaceRuntime>().Availability.IsAvailable;
    }

    public async ValueTask DisposeAsync()
    {
        await Permits.DisposeAsync();
        File.Delete(WitnessFile);
        foreach (var directory in new[] { Path.Join(Path.GetTempPath(), _name), Path.Join("/dev/shm", _name) })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Skips (or fails under SPE_REQUIRE_ALL=1) when the desktop programs are not installed.</summary>
    public void RequireDesktop()
    {
        if (!Available)
        {
            Requirements.Missing("desktops need bubblewrap sandboxes and Xtigervnc, twm and xclip (apt-get install bubblewrap tigervnc-standalone-server twm xterm xclip): "
                + Server.Services.GetRequiredService<IWorkspaceRuntime>().Availability.Reason);
        }
    }

    /// <summary>Issues a permit naming researcher and researcher2 that allows desktops with <paramref name="clipboard"/>.</summary>
    public async Task<(string PermitId, string ProjectId)> IssueAsync(string clipboard = "none", string[]? kinds = null, int idleMinutes = 15, string? reference = null) =>
        await Permits.IssueAsync(PolicyDocument(reference ?? "HDAB-DESK-" + Guid.NewGuid().ToString("N")[..8], clipboard, kinds, idleMinutes));

    /// <summary>Amends the permit of <paramref name="reference"/> (issued by <see cref="IssueAsync"/>) to other policies, as the HDAB.</summary>
    public async Task AmendAsync(string permitId, string reference, string clipboard, string[] kinds)
    {
        using var response = await Permits.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/amendments", PolicyDocument(reference, clipboard, kinds, 15));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private static Dictionary<string, object?> PolicyDocument(string reference, string clipboard, string[]? kinds, int idleMinutes)
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(60), reference);
        document["policies"] = new { workspaceKinds = kinds ?? ["desktop", "job"], clipboard, idleTimeoutMinutes = idleMinutes };
        return document;
    }

    public Uri DesktopUri(string projectId, string? ticket = null) =>
        new($"wss://{Server.BaseAddress.Authority}/api/v1/projects/{projectId}/desktop" + (ticket is null ? "" : "?ticket=" + Uri.EscapeDataString(ticket)));

    public ClientWebSocket NewSocket()
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(DesktopProtocol.Subprotocol);
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())) == Server.Info.CertificateFingerprint;
        return socket;
    }

    /// <summary>Opens the desktop as <paramref name="username"/> with a bearer token, accepting the terms.</summary>
    public async Task<RfbTestClient> OpenAsync(string username, string projectId)
    {
        var socket = NewSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + await Server.TokenForAccountAsync(username));
        socket.Options.SetRequestHeader(DesktopProtocol.TermsHeader, TermsVersion);
        await socket.ConnectAsync(DesktopUri(projectId), TestContext.Current.CancellationToken);
        return new RfbTestClient(socket);
    }

    /// <summary>Tries to open the desktop; returns the HTTP status the upgrade got (101 when it opened, then closed at once).</summary>
    public async Task<int> TryOpenAsync(Uri uri, string? token, bool acceptTerms = true)
    {
        using var socket = NewSocket();
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

    /// <summary>A ticket for <paramref name="projectId"/> as <paramref name="username"/>, accepting the terms.</summary>
    public async Task<string> TicketAsync(string username, string projectId)
    {
        var response = await Permits.PostAsAsync(username, $"/api/v1/projects/{projectId}/desktop/tickets", new { acceptTerms = true, termsVersion = TermsVersion });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("ticket").GetString()!;
    }

    /// <summary>What the desktop's X clipboard holds now, read inside the desktop by the probe.</summary>
    public async Task<string> DesktopClipboardAsync(string projectId)
    {
        var desktop = Server.Services.GetRequiredService<DesktopHosts>().Running.Single(d => d.ProjectId == projectId);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var stream = await desktop.Process.ConnectSocketAsync("clip.sock", TestContext.Current.CancellationToken);
                using var reader = new StreamReader(stream);
                return await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
            }
            catch (Exception ex) when ((ex is IOException or System.Net.Sockets.SocketException) && attempt < 200)
            {
                // The probe binds its socket a moment after the desktop opened.
                await Task.Delay(25, TestContext.Current.CancellationToken);
            }
        }
    }

    public Task<List<OpenSpe.Core.Audit.AuditRow>> AuditAsync(string projectId, string? action = null) =>
        Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: action, ProjectId: projectId));

    /// <summary>Waits for the session's closed record (written after the WebSocket closed).</summary>
    public async Task<OpenSpe.Core.Audit.AuditRow> ClosedRecordAsync(string projectId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if ((await AuditAsync(projectId, "desktop.session.closed")).LastOrDefault() is { } row)
            {
                return row;
            }

            Assert.True(DateTime.UtcNow < deadline, "no desktop.session.closed record");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public static string Detail(OpenSpe.Core.Audit.AuditRow row, string name) =>
        JsonDocument.Parse(row.DetailsJson).RootElement.TryGetProperty(name, out var value) ? value.GetString() ?? "" : "";
}
