using System.Net.Sockets;
using System.Text;

namespace OpenSpe.Workspaces.Tests;

/// <summary>The host reaches a sandbox only through its socket directory; the sandbox reaches no host socket (SPER-6).</summary>
public sealed class SandboxSocketTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private const string Server =
        "import socket; s = socket.socket(socket.AF_UNIX); s.bind('/run/workspace/vnc.sock'); s.listen(1); print('ready', flush=True); " +
        "c, _ = s.accept(); c.sendall(b'RFB 003.008\\n'); c.close()";

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task ConnectSocket_ReachesASocketTheSandboxCreated()
    {
        sandbox.RequireSandbox();
        var spec = new WorkspaceSpec { ProjectId = "sock", Member = "alice", Command = ["python3", "-c", Server], ExposeSockets = true };
        await using var process = await sandbox.Runtime.StartAsync(spec, TestContext.Current.CancellationToken);
        using var output = new StreamReader(process.StandardOutput);
        Assert.Equal("ready", await output.ReadLineAsync(TestContext.Current.CancellationToken));

        await using var stream = await process.ConnectSocketAsync("vnc.sock", TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream, Encoding.ASCII);

        Assert.Equal("RFB 003.008", await reader.ReadLineAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, (await process.Completion).ExitCode);
        await Assert.ThrowsAsync<ArgumentException>(() => process.ConnectSocketAsync("../etc/passwd", TestContext.Current.CancellationToken));
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task ConnectSocket_RefusesASymlinkToAHostSocket()
    {
        sandbox.RequireSandbox();
        // A host service on a UNIX socket (a database, a container daemon) that the server process could reach.
        var hostDirectory = Path.Join(Path.GetTempPath(), "openspe-host-sock-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(hostDirectory);
        var hostSocket = Path.Join(hostDirectory, "service.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(hostSocket));
        listener.Listen();
        try
        {
            var spec = new WorkspaceSpec
            {
                ProjectId = "sock",
                Member = "alice",
                Command = ["/bin/sh", "-c", $"ln -s {hostSocket} /run/workspace/vnc.sock && echo ready && sleep 1000"],
                ExposeSockets = true,
            };
            await using var process = await sandbox.Runtime.StartAsync(spec, TestContext.Current.CancellationToken);
            using var output = new StreamReader(process.StandardOutput);
            Assert.Equal("ready", await output.ReadLineAsync(TestContext.Current.CancellationToken));

            await Assert.ThrowsAsync<UnauthorizedAccessException>(() => process.ConnectSocketAsync("vnc.sock", TestContext.Current.CancellationToken));

            // Whatever the kernel queued for the host service was closed before a byte was sent.
            if (listener.Poll(0, SelectMode.SelectRead))
            {
                using var accepted = await listener.AcceptAsync(TestContext.Current.CancellationToken);
                var buffer = new byte[16];
                Assert.Equal(0, await accepted.ReceiveAsync(buffer, TestContext.Current.CancellationToken));
            }
        }
        finally
        {
            Directory.Delete(hostDirectory, recursive: true);
        }
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task WithoutExposeSockets_ThereIsNoSocketDirectory()
    {
        var result = await sandbox.RunAsync("sock", "ls /run/workspace 2>/dev/null && echo PRESENT; echo end");

        Assert.Equal("end\n", result.Output);
    }

    [Fact]
    [Trait("Requirement", "SPER-6")]
    public async Task Sandbox_CannotReachAHostAbstractUnixSocket()
    {
        // Abstract UNIX sockets (X11, D-Bus and others use them) belong to the network namespace, so the host's are out of reach.
        var name = "openspe-test-" + Guid.NewGuid().ToString("N");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint("\0" + name));
        listener.Listen();

        var result = await sandbox.RunAsync("sock",
            $"python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect('\\0{name}'); print('CONNECTED')\"; echo end");

        Assert.Equal("end\n", result.Output);
        Assert.Contains("ConnectionRefusedError", result.Error, StringComparison.Ordinal);
    }
}
