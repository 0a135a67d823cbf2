using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Desktop;
using OpenSpe.Server.Terminal;
using OpenSpe.Server.Vault;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Terminal;

/// <summary>
/// The web terminal end to end: a real WebSocket client over real TLS, through the gateway, to a real login shell on a PTY in the
/// project's bubblewrap sandbox; what the permit allows, what is audited and recorded, and what ends a session.
/// </summary>
public sealed class TerminalGatewayTests(TerminalFixture f) : IClassFixture<TerminalFixture>
{
    [Fact]
    [Trait("Requirement", "SPER-1")]
    [Trait("Requirement", "TIR-26")]
    public async Task A_researcher_gets_a_login_shell_on_a_pts_in_the_sandbox_as_the_project_uid_and_reads_the_permits_data()
    {
        f.RequireTerminal();
        var (_, projectId) = await f.IssueAsync();
        await f.UploadAsync(projectId);

        using var client = await f.OpenAsync("researcher", projectId);
        await client.SendAsync("echo U=$(id -u) H=$HOME P=$(pwd) T=$(tty) D=$(ls /dev/pts | tr '\\n' ,) C=$(head -c 6 /data/omop-2026/cohort.csv); exit 3\r");
        var line = await client.WaitForAsync(@"U=(\d+) H=(\S+) P=(\S+) T=(\S+) D=(\S*) C=(\S+)");
        var status = await client.WaitForCloseAsync();
        var closed = await f.ClosedRecordAsync(projectId);

        Assert.NotEqual("0", line.Groups[1].Value);
        Assert.Equal(("/home/researcher", "/project", "/dev/pts/0"), (line.Groups[2].Value, line.Groups[3].Value, line.Groups[4].Value));
        // Note: the sandbox's own devpts instance: its one terminal and ptmx, nothing of the host's terminals.
        Assert.Equal("0,ptmx,", line.Groups[5].Value);
        Assert.Equal("id,age", line.Groups[6].Value);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, status);
        Assert.Equal(("shell-ended", "3"), (TerminalFixture.Detail(closed, "end"), TerminalFixture.Detail(closed, "exitCode")));
        Assert.Equal("researcher", closed.ActorUsername);
        Assert.NotNull(closed.SourceIp);
        var hello = JsonDocument.Parse(Assert.Single(client.Control)).RootElement;
        Assert.Equal(("hello", false, false), (hello.GetProperty("type").GetString(), hello.GetProperty("clipboardIn").GetBoolean(), hello.GetProperty("clipboardOut").GetBoolean()));
        Assert.Equal(TerminalFixture.Detail(Assert.Single(await f.AuditAsync(projectId, "terminal.session.opened")), "session"), TerminalFixture.Detail(closed, "session"));
        Assert.Single(await f.AuditAsync(projectId, "terminal.terms.accepted"));
        Assert.Empty(f.Shells(projectId));
        Assert.False(f.Server.Services.GetRequiredService<IPlaintextStaging>().IsStaged(projectId));
    }

    [Fact]
    [Trait("Requirement", "TIR-18")]
    public async Task A_resize_message_sets_the_terminals_window_size()
    {
        f.RequireTerminal();
        var (_, projectId) = await f.IssueAsync();
        using var client = await f.OpenAsync("researcher", projectId);

        await client.SendAsync("echo S1=$(stty size | tr ' ' x)\r");
        var before = await client.WaitForAsync(@"S1=(\d+x\d+)");
        await client.ResizeAsync(rows: 33, cols: 101);
        await client.SendAsync("echo S2=$(stty size | tr ' ' x)\r");
        var after = await client.WaitForAsync(@"S2=(\d+x\d+)");
        await client.CloseAsync();
        var closed = await f.ClosedRecordAsync(projectId);

        Assert.Equal(("24x80", "33x101"), (before.Groups[1].Value, after.Groups[1].Value));
        Assert.Equal(("client-closed", "1"), (TerminalFixture.Detail(closed, "end"), TerminalFixture.Detail(closed, "resizes")));
    }

    [Theory]
    [InlineData("none", false)]
    [InlineData("out", false)]
    [InlineData("in", true)]
    [InlineData("both", true)]
    [Trait("Requirement", "TIR-25")]
    public async Task A_bracketed_paste_reaches_the_shell_only_when_the_permit_allows_in_and_a_dropped_one_is_audited(string clipboard, bool reaches)
    {
        f.RequireTerminal();
        var (_, projectId) = await f.IssueAsync(clipboard);
        const string pasted = "echo PASTED-$((40+2))";
        using var client = await f.OpenAsync("researcher", projectId);

        await client.SendAsync("\e[200~" + pasted + "\e[201~");
        await client.SendAsync("\r");
        await client.SendAsync("echo DONE-$((1+1))\r");
        await client.WaitForAsync("DONE-2");
        var output = client.Text;
        await client.CloseAsync();
        var closed = await f.ClosedRecordAsync(projectId);
        var dropped = await f.AuditAsync(projectId, "terminal.clipboard.in.dropped");

        Assert.True(reaches == output.Contains("PASTED-42", StringComparison.Ordinal), output);
        if (reaches)
        {
            Assert.Empty(dropped);
            Assert.Equal("1", TerminalFixture.Detail(closed, "pastesForwarded"));
        }
        else
        {
            var record = Assert.Single(dropped);
            Assert.Equal(projectId, record.ProjectId);
            Assert.Equal(pasted.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), TerminalFixture.Detail(record, "bytes"));
            Assert.DoesNotContain("PASTED", record.DetailsJson, StringComparison.Ordinal);
            Assert.Equal("1", TerminalFixture.Detail(closed, "pastesDropped"));
        }
    }

    [Fact]
    [Trait("Requirement", "TIR-24")]
    public async Task The_idle_timeout_without_input_closes_the_session_and_stops_the_shell()
    {
        f.RequireTerminal();
        var (_, projectId) = await f.IssueAsync(idleMinutes: 5);
        using var client = await f.OpenAsync("researcher", projectId);
        await client.SendAsync("echo A-$((1+1))\r");
        await client.WaitForAsync("A-2");
        var shell = Assert.Single(f.Shells(projectId));

        // Input restarts the timer: 4 minutes, a command, 4 more minutes is not idle for 5. The command's answer shows the input arrived.
        f.Permits.Clock.Advance(TimeSpan.FromMinutes(4));
        await client.SendAsync("echo B-$((2+2))\r");
        await client.WaitForAsync("B-4");
        f.Permits.Clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(WebSocketState.Open, client.Socket.State);

        // A resize is no input: it does not restart the timer, so 1.5 more minutes make 5.5 since the last command.
        await client.SendControlAsync("""{"type":"resize","cols":90,"rows":30}""");
        f.Permits.Clock.Advance(TimeSpan.FromMinutes(1.5));
        var status = await client.WaitForCloseAsync();
        var exit = await shell.Completion.WaitAsync(TestContext.Current.CancellationToken);

        Assert.Equal((WebSocketCloseStatus)DesktopProtocol.CloseIdle, status);
        Assert.Equal("idle-timeout", TerminalFixture.Detail(await f.ClosedRecordAsync(projectId), "end"));
        Assert.Equal(WorkspaceStopReason.TimedOut, exit.StoppedBy);
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task A_halt_closes_an_open_terminal_and_its_shell_is_gone()
    {
        f.RequireTerminal();
        var (_, projectId) = await f.IssueAsync();
        using var client = await f.OpenAsync("researcher", projectId);
        await client.SendAsync("sleep 1000 & echo R-$((5+5))\r");
        await client.WaitForAsync("R-10");
        var shell = Assert.Single(f.Shells(projectId));

        Assert.Equal(HttpStatusCode.Created, (await f.Permits.PostAsAsync("operator", "/api/v1/halts", new { projectId, reason = "terminal halt test" })).StatusCode);
        var status = await client.WaitForCloseAsync();
        var exit = await shell.Completion.WaitAsync(TestContext.Current.CancellationToken);

        Assert.Equal((WebSocketCloseStatus)DesktopProtocol.CloseHalted, status);
        Assert.Equal(WorkspaceStopReason.Halted, exit.StoppedBy);
        Assert.Equal("halted", TerminalFixture.Detail(await f.ClosedRecordAsync(projectId), "end"));
        Assert.Empty(f.Shells(projectId));
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    [Trait("Requirement", "EHDSR-3")]
    public async Task Revoking_the_permit_closes_an_open_terminal_and_stops_its_shell()
    {
        f.RequireTerminal();
        var (permitId, projectId) = await f.IssueAsync();
        using var client = await f.OpenAsync("researcher", projectId);
        await client.SendAsync("echo R-$((5+5))\r");
        await client.WaitForAsync("R-10");
        var shell = Assert.Single(f.Shells(projectId));

        Assert.Equal(HttpStatusCode.OK, (await f.Permits.PostAsAsync("hdab", $"/api/v1/permits/{permitId}/revoke", new { reason = "terminal revoke test" })).StatusCode);
        var status = await client.WaitForCloseAsync();
        var exit = await shell.Completion.WaitAsync(TestContext.Current.CancellationToken);

        Assert.Equal((WebSocketCloseStatus)DesktopProtocol.CloseAccessEnded, status);
        Assert.NotNull(exit.StoppedBy);
    }

    [Fact]
    [Trait("Requirement", "SPER-2")]
    public async Task An_amendment_that_takes_terminals_out_of_the_permit_closes_an_open_terminal_and_stops_its_shell()
    {
        f.RequireTerminal();
        var reference = "HDAB-TERM-" + Guid.NewGuid().ToString("N")[..8];
        var (permitId, projectId) = await f.IssueAsync(kinds: ["terminal", "job"], reference: reference);
        using var client = await f.OpenAsync("researcher", projectId);
        await client.SendAsync("echo K-$((4+4))\r");
        await client.WaitForAsync("K-8");
        var shell = Assert.Single(f.Shells(projectId));

        await f.AmendAsync(permitId, reference, "none", ["job"]);
        var status = await client.WaitForCloseAsync().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        var exit = await shell.Completion.WaitAsync(TestContext.Current.CancellationToken);

        Assert.Equal((WebSocketCloseStatus)DesktopProtocol.CloseAccessEnded, status);
        Assert.NotNull(exit.StoppedBy);
        Assert.Equal("workspace-kind-withdrawn", TerminalFixture.Detail(await f.ClosedRecordAsync(projectId), "end"));
    }

    [Fact]
    [Trait("Requirement", "TIR-25")]
    public async Task An_amendment_that_closes_the_clipboard_ends_an_open_terminal_so_it_reopens_under_the_new_rule()
    {
        f.RequireTerminal();
        var reference = "HDAB-TERM-" + Guid.NewGuid().ToString("N")[..8];
        var (permitId, projectId) = await f.IssueAsync(clipboard: "both", reference: reference);
        using var client = await f.OpenAsync("researcher", projectId);
        await client.SendAsync("echo C-$((3+3))\r");
        await client.WaitForAsync("C-6");

        await f.AmendAsync(permitId, reference, "none", ["terminal", "desktop"]);
        var status = await client.WaitForCloseAsync().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal((WebSocketCloseStatus)DesktopProtocol.CloseAccessEnded, status);
        Assert.Equal("clipboard-policy-changed", TerminalFixture.Detail(await f.ClosedRecordAsync(projectId), "end"));
        Assert.Empty(f.Shells(projectId));
    }

    [Fact]
    [Trait("Requirement", "TIR-26")]
    public async Task The_recording_decrypts_with_the_project_key_and_holds_the_sessions_output_and_input()
    {
        f.RequireTerminal();
        var (_, projectId) = await f.IssueAsync();
        byte[] received;
        using (var client = await f.OpenAsync("researcher", projectId))
        {
            await client.ResizeAsync(30, 100);
            await client.SendAsync("echo REC-$((6*7))\r");
            await client.WaitForAsync("REC-42");
            await client.SendAsync("exit\r");
            await client.WaitForCloseAsync();
            received = client.Received;
        }

        var plaintext = await RecordingAsync(projectId, await f.ClosedRecordAsync(projectId));

        Assert.Equal(DesktopRecording.TerminalMagic, plaintext[..DesktopRecording.TerminalMagic.Length]);
        var streams = new Dictionary<byte, MemoryStream> { [DesktopRecording.TerminalOutput] = new(), [DesktopRecording.TerminalInput] = new(), [DesktopRecording.TerminalResize] = new() };
        for (var offset = DesktopRecording.TerminalMagic.Length; offset < plaintext.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(plaintext.AsSpan(offset + 8));
            streams[plaintext[offset + 12]].Write(plaintext, offset + 13, length);
            offset += 13 + length;
        }

        Assert.Equal(received, streams[DesktopRecording.TerminalOutput].ToArray());
        Assert.Equal("echo REC-$((6*7))\rexit\r", Encoding.UTF8.GetString(streams[DesktopRecording.TerminalInput].ToArray()));
        Assert.Equal(TerminalPtyResize(30, 100), streams[DesktopRecording.TerminalResize].ToArray());
    }

    [Fact]
    [Trait("Requirement", "TIR-26")]
    public async Task A_session_whose_recording_reaches_its_limit_ends_and_the_recording_up_to_it_is_stored()
    {
        f.RequireTerminal();
        var options = f.Server.Services.GetRequiredService<IOptions<TerminalOptions>>().Value;
        var configured = options.MaxRecordingBytes;
        options.MaxRecordingBytes = 64 * 1024;
        try
        {
            var (_, projectId) = await f.IssueAsync();
            using var client = await f.OpenAsync("researcher", projectId);
            await client.SendAsync("head -c 300000 /dev/zero | od -v | head -c 200000; echo NOT-SHOWN-$((2*3))\r");
            var status = await client.WaitForCloseAsync().WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);

            var closed = await f.ClosedRecordAsync(projectId);
            var plaintext = await RecordingAsync(projectId, closed);
            Assert.Equal((WebSocketCloseStatus)DesktopProtocol.CloseMaxLength, status);
            Assert.Equal("recording-limit", TerminalFixture.Detail(closed, "end"));
            Assert.InRange(plaintext.Length, DesktopRecording.TerminalMagic.Length + 1, 64 * 1024);
            Assert.Contains("0000000 000000", client.Text, StringComparison.Ordinal);
            Assert.DoesNotContain("NOT-SHOWN-6", client.Text, StringComparison.Ordinal);
        }
        finally
        {
            options.MaxRecordingBytes = configured;
        }
    }

    /// <summary>The plaintext of the closed session's recording, decrypted with the project key.</summary>
    private Task<byte[]> RecordingAsync(string projectId, OpenSpe.Core.Audit.AuditRow closed)
    {
        var key = DesktopRecording.TerminalKeyFor(projectId, TerminalFixture.Detail(closed, "session"));
        var objects = f.Server.Services.GetRequiredService<IObjectStore>();
        return f.Server.Services.GetRequiredService<IProjectKeyStore>().UsePrivateKeyAsync(projectId, async privateKey =>
        {
            await using var encrypted = await objects.OpenReadAsync(key, TestContext.Current.CancellationToken);
            await using var decrypting = new Crypt4ghDecryptingStream(encrypted, privateKey);
            using var plain = new MemoryStream();
            await decrypting.CopyToAsync(plain, TestContext.Current.CancellationToken);
            return plain.ToArray();
        }, TestContext.Current.CancellationToken);
    }

    private static byte[] TerminalPtyResize(int rows, int cols) => OpenSpe.Server.Terminal.TerminalPty.ResizeBody(rows, cols);
}
