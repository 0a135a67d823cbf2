using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>
/// One dev accounts file for every test server of the run (made by the server's own <see cref="DevAccounts"/>), so that
/// <see cref="MemoizingPasswordHasher"/> hashes each dev password once per run instead of once per server.
/// </summary>
public static class TestDevAccounts
{
    /// <summary>A setting that makes a test server create its own dev accounts, for tests of that creation.</summary>
    public const string OwnAccountsSetting = "Test:OwnDevAccounts";

    private static readonly Lazy<string> Content = new(() =>
    {
        var directory = new TempDirectory();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => directory.Dispose();
        var data = DataDirectory.Open(directory.File("data"));
        DevAccounts.LoadOrCreate(data);
        return File.ReadAllText(data.File(DevAccounts.FileName));
    });

    /// <summary>Puts the run's dev accounts into a new server's data directory, unless it has its own already.</summary>
    public static void WriteInto(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, DevAccounts.FileName);
        if (File.Exists(path))
        {
            return;
        }

        Directory.CreateDirectory(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(path, Content.Value);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
