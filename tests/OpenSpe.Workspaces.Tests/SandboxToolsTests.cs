using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OpenSpe.Workspaces.Tests;

/// <summary>
/// The tools researchers work with, run inside a real sandbox on the host's read-only /usr (issue #13 item 2): the Python
/// stack, R, a Jupyter Notebook server on the sandbox's own loopback only, and text editors. `.ci/run` installs them.
/// </summary>
public sealed class SandboxToolsTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private const string Cohort = "id,age,sex\n1,34,F\n2,51,M\n3,47,F\n";

    [Fact]
    [Trait("Requirement", "SPER-1")]
    public async Task Python_stack_reads_the_data_and_draws_a_figure_into_outputs()
    {
        await using var lease = await sandbox.StageAsync("tools-py", "cohort.csv", Cohort);
        var result = await sandbox.RunAsync("tools-py", """
            python3 - <<'PY'
            import numpy, scipy.stats, statsmodels.api, pandas, matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            d = pandas.read_csv("/data/cohort.csv")
            print(len(d), float(numpy.mean(d.age)))
            plt.bar(d.sex, d.age)
            plt.savefig("/outputs/ages.png")
            PY
            head -c 8 /outputs/ages.png | od -An -tx1 | tr -d ' \n'
            """, data: lease);

        Assert.True(result.Exit.ExitCode == 0, result.Error);
        // 3 rows, mean age (34 + 51 + 47) / 3 = 44; then the PNG signature.
        Assert.Equal("3 44.0\n89504e470d0a1a0a", result.Output);
    }

    [Fact]
    [Trait("Requirement", "SPER-1")]
    public async Task R_reads_the_data()
    {
        await using var lease = await sandbox.StageAsync("tools-r", "cohort.csv", Cohort);
        var result = await sandbox.RunAsync("tools-r", """Rscript -e 'd <- read.csv("/data/cohort.csv"); cat(nrow(d), sum(d$sex == "F"), mean(d$age))'""", data: lease);

        Assert.True(result.Exit.ExitCode == 0, result.Error);
        Assert.Equal("3 2 44", result.Output);
    }

    [Fact]
    public async Task Text_editors_and_a_shell_are_there()
    {
        var result = await sandbox.RunAsync("tools-edit", "for t in bash nano vi; do command -v $t >/dev/null && echo $t; done");

        Assert.Equal("bash\nnano\nvi\n", result.Output);
    }

    /// <summary>
    /// Jupyter serves on the sandbox's loopback: a client in the same sandbox (as the desktop's browser is) gets its API; the
    /// host's loopback, on the same port while it runs, has nothing there (SPER-6).
    /// </summary>
    [Fact]
    [Trait("Requirement", "SPER-6")]
    [Trait("Requirement", "SPER-1")]
    public async Task Jupyter_answers_inside_the_sandbox_and_not_on_the_host()
    {
        sandbox.RequireSandbox();
        var port = FreeHostPort();
        var spec = new WorkspaceSpec
        {
            ProjectId = "tools-jupyter",
            Member = "alice",
            Command = ["/bin/sh", "-c", $"""
                jupyter-notebook --no-browser --ip=127.0.0.1 --port={port} --port-retries=0 --NotebookApp.token=t0ken --notebook-dir=/project >/tmp/jupyter.log 2>&1 &
                python3 - <<'PY'
                import json, time, urllib.request
                for _ in range(600):
                    try:
                        status = json.load(urllib.request.urlopen("http://127.0.0.1:{port}/api/status?token=t0ken", timeout=1))
                        print("UP", "started" in status, flush=True)
                        break
                    except OSError:
                        time.sleep(0.1)
                else:
                    print("DOWN", open("/tmp/jupyter.log").read(), flush=True)
                PY
                read _
                """],
        };
        await using var process = await sandbox.Runtime.StartAsync(spec, TestContext.Current.CancellationToken);
        using var output = new StreamReader(process.StandardOutput, Encoding.UTF8);

        var line = await output.ReadLineAsync(TestContext.Current.CancellationToken);
        var refused = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        });
        await process.StandardInput.WriteAsync("done\n"u8.ToArray(), TestContext.Current.CancellationToken);
        await process.StandardInput.DisposeAsync();
        await process.Completion;

        Assert.Equal("UP True", line);
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    /// <summary>
    /// What the desktop's "Jupyter Notebook" menu entry does, without the desktop: the notebook server on the sandbox's
    /// loopback and Chromium (as the desktop starts it: no sandbox of its own inside bubblewrap's) rendering its file list.
    /// </summary>
    [Fact]
    [Trait("Requirement", "SPER-1")]
    public async Task Chromium_in_the_sandbox_renders_the_notebook_server()
    {
        var result = await sandbox.RunAsync("tools-browser", """
            echo 'print(1)' > /project/analysis.py
            jupyter-notebook --no-browser --ip=127.0.0.1 --port=8888 --NotebookApp.token=t0ken --notebook-dir=/project >/tmp/jupyter.log 2>&1 &
            python3 -c 'import time, urllib.request
            for _ in range(600):
                try:
                    urllib.request.urlopen("http://127.0.0.1:8888/api/status?token=t0ken", timeout=1); break
                except OSError:
                    time.sleep(0.1)'
            # Note: under a loaded machine the page's scripts may not have filled the list when the DOM is dumped
            # (failed once in CI): dump again, up to five times, until the file is listed.
            for attempt in 1 2 3 4 5; do
              timeout 120 /usr/lib/chromium/chromium --headless --no-sandbox --disable-gpu --no-first-run --virtual-time-budget=10000 \
                --dump-dom 'http://127.0.0.1:8888/tree?token=t0ken' 2>/dev/null | grep -o -e '<title>[^<]*</title>' -e 'analysis.py' | sort -u > /tmp/found
              grep -q analysis.py /tmp/found && break
            done
            cat /tmp/found
            """);

        Assert.True(result.Exit.ExitCode == 0, result.Error);
        // The tree page's title, and the project's file listed in it (the list is filled by the page's scripts).
        Assert.Equal("<title>Home Page - Select or create a notebook</title>\nanalysis.py\n", result.Output);
    }

    private static int FreeHostPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
