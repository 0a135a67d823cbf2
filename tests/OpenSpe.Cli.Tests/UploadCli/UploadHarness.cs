using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Commands;
using OpenSpe.Cli.Transfers;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.UploadCli;

/// <summary>
/// <c>spe upload</c>, <c>spe dataset list</c>, <c>spe project</c> and <c>spe audit</c> against <see cref="FakeTusServer"/> (or a real server, <see cref="ForServer"/>):
/// a private config directory (with a session pinned to the server's certificate) and cache directory, the verbs run in
/// process or as the real <c>spe</c>.
/// </summary>
internal sealed class UploadHarness : IAsyncDisposable
{
    public const string Marker = "PLAINTEXT-MARKER";

    private static readonly RetrySettings FastRetries = new(5, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(50));

    private readonly TempDirectory _directory = new();

    private readonly FakeTusServer? _fake;

    private UploadHarness(FakeTusServer server)
        : this(server.BaseAddress, server.CertificateFingerprint, FakeTusServer.Token)
    {
        _fake = server;
    }

    private UploadHarness(Uri server, string fingerprint, string token)
    {
        Environment = new ClientEnvironment
        {
            Variables = name => name switch
            {
                CredentialStore.ConfigDirectoryVariable => ConfigDirectory,
                TransferPaths.CacheDirectoryVariable => CacheDirectory,
                _ => null,
            },
        };
        new CredentialStore(ConfigDirectory).Save(new StoredCredentials(server.ToString(), fingerprint, "holder", token, DateTimeOffset.UtcNow.AddMinutes(9), null));
    }

    /// <summary>The fake server (harnesses made by <see cref="StartAsync"/> only).</summary>
    public FakeTusServer Server => _fake ?? throw new InvalidOperationException("This harness runs against a real server.");

    public ClientEnvironment Environment { get; }

    public string ConfigDirectory => _directory.File("config");

    public string CacheDirectory => _directory.File("cache");

    public string StateDirectory => Path.Combine(ConfigDirectory, "uploads");

    public string StagingDirectory => Path.Combine(CacheDirectory, "uploads");

    public static async Task<UploadHarness> StartAsync() => new(await FakeTusServer.StartAsync());

    /// <summary>A harness signed in to a real server with <paramref name="accessToken"/> (a holder's); the server stays the caller's.</summary>
    public static UploadHarness ForServer(SpeTestServer server, string accessToken) =>
        new(server.BaseAddress, server.Info.CertificateFingerprint, accessToken);

    /// <summary>A plaintext file of <paramref name="size"/> bytes: marker lines (so a plaintext leak is easy to spot) and random bytes.</summary>
    public (string Path, byte[] Content) WritePlaintext(string name, int size)
    {
        var content = new byte[size];
        RandomNumberGenerator.Fill(content);
        var marker = Encoding.ASCII.GetBytes(Marker + "\n");
        for (var i = 0; i + marker.Length <= size; i += 4096)
        {
            marker.CopyTo(content, i);
        }

        var path = _directory.File(name);
        File.WriteAllBytes(path, content);
        return (path, content);
    }

    public string WriteFile(string name, byte[] content)
    {
        var path = _directory.File(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    public string[] StateFiles() => Directory.Exists(StateDirectory) ? Directory.GetFiles(StateDirectory, "*.json") : [];

    public string[] StagedFiles() => Directory.Exists(StagingDirectory) ? Directory.GetFiles(StagingDirectory) : [];

    /// <summary>Runs the verbs in process (fast retries), like Program.cs does.</summary>
    public async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args) => await RunAsync(TestContext.Current.CancellationToken, args);

    public async Task<(int Code, string Stdout, string Stderr)> RunAsync(CancellationToken cancellationToken, params string[] args)
    {
        var root = new RootCommand("spe (upload verbs under test)")
        {
            UploadCommands.Create(Environment, FastRetries),
            DatasetCommands.Create(Environment),
            ProjectCommands.Create(Environment),
            JobCommands.Create(Environment),
            DesktopCommands.Create(Environment),
            ExportCommands.Create(Environment),
            ExportCommands.CreateImport(Environment),
            OpenSpe.Cli.Hosting.AuditCommands.Create(Environment),
            OpenSpe.Cli.Hosting.BackupCommands.Create(Environment),
            ComplianceCommands.Create(Environment),
            TrainingCommands.Create(Environment),
            OperationsCommands.Create(Environment),
            AlertCommands.Create(Environment),
            IncidentCommands.Create(Environment),
            FederationAnalysisCommands.AddTo(FederationCaCommands.Create(), Environment),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            return (2, "", string.Join('\n', parse.Errors.Select(e => "spe: " + e.Message)));
        }

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code;
        try
        {
            code = await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            code = -1;
        }

        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The real <c>spe</c> as a child process with this harness's config and cache directories.</summary>
    public Process StartSpe(params string[] args)
    {
        var info = SpeProcess.StartInfo(args);
        info.Environment[CredentialStore.ConfigDirectoryVariable] = ConfigDirectory;
        info.Environment[TransferPaths.CacheDirectoryVariable] = CacheDirectory;
        var process = Process.Start(info)!;
        process.StandardInput.Close();
        return process;
    }

    public async Task<(int Code, string Stdout, string Stderr)> RunSpeAsync(params string[] args)
    {
        using var process = StartSpe(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    public async ValueTask DisposeAsync()
    {
        if (_fake is not null)
        {
            await _fake.DisposeAsync();
        }

        _directory.Dispose();
    }
}
