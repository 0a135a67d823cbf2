using System.CommandLine;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Commands;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>Keyboard and standard input for a verb under test.</summary>
internal sealed class FakeUserInput : IUserInput
{
    public bool IsTerminal { get; set; }

    /// <summary>Lines on standard input (for --password-stdin).</summary>
    public Queue<string> Stdin { get; } = new();

    /// <summary>What the user types at each prompt.</summary>
    public Queue<string> Answers { get; } = new();

    public List<(string Prompt, bool Echo)> Prompts { get; } = [];

    public string? ReadLine() => Stdin.Count > 0 ? Stdin.Dequeue() : null;

    public string Prompt(string prompt, bool echo)
    {
        Assert.True(IsTerminal, "a verb prompted although standard input is not a terminal");
        Prompts.Add((prompt, echo));
        return Answers.Dequeue();
    }
}

/// <summary>
/// The client verbs run in process against <see cref="FakeSpeServer"/>, with a private config
/// directory and a fake clock; the parse-error handling mirrors Program.cs.
/// </summary>
internal sealed class ClientHarness : IDisposable
{
    private readonly TempDirectory _directory = new();

    public ClientHarness()
    {
        Time = new TimerAwareTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        Server = new FakeSpeServer(Time);
        Environment = new ClientEnvironment
        {
            Variables = name => name == CredentialStore.ConfigDirectoryVariable ? ConfigDirectory : null,
            Time = Time,
            Input = Input,
            Handler = _ => Server,
        };
    }

    public static Uri Address { get; } = new("https://spe.test:8443/");

    public TimerAwareTimeProvider Time { get; }

    public FakeSpeServer Server { get; }

    public FakeUserInput Input { get; } = new();

    public ClientEnvironment Environment { get; }

    public string ConfigDirectory => _directory.File("config");

    public CredentialStore Store => new(ConfigDirectory);

    /// <summary>Stores a session as a password+TOTP login would have.</summary>
    public StoredCredentials SignIn(bool mfa = true, TimeSpan? lifetime = null, string? pin = null)
    {
        var (access, refresh) = Server.Issue(mfa, lifetime);
        var credentials = new StoredCredentials(Address.ToString(), pin, Server.Username, access, Time.GetUtcNow() + (lifetime ?? Server.AccessLifetime), refresh);
        Store.Save(credentials);
        return credentials;
    }

    public SpeApiClient Api(StoredCredentials credentials) => new(Store, credentials, Environment.Connect(credentials.ServerUri, credentials.CaFingerprint), Time);

    public async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var root = new RootCommand("spe (client verbs under test)")
        {
            LoginCommands.Login(Environment),
            LoginCommands.WhoAmI(Environment),
            LoginCommands.Logout(Environment),
            AccountCommands.Create(Environment),
            AdminCommands.Create(Environment),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            return (2, "", string.Join('\n', parse.Errors.Select(e => "spe: " + e.Message)));
        }

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, TestContext.Current.CancellationToken);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose()
    {
        Server.Dispose();
        _directory.Dispose();
    }
}
