using System.Diagnostics;
using System.Runtime.InteropServices;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Vault;

/// <summary>Serialises the PKCS#11 test classes: SOFTHSM2_CONF is process-wide and read when the library initialises.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoftHsmTests
{
    public const string Name = "SoftHSM2";
}

/// <summary>
/// A real SoftHSM2 with fresh tokens for one test class: a private token directory and config
/// (SOFTHSM2_CONF set natively, before the library is next initialised), and two tokens
/// initialised with softhsm2-util. Without SoftHSM2, <see cref="Require"/> skips the test
/// (fails with SPE_REQUIRE_ALL=1).
/// </summary>
public sealed class SoftHsmFixture : IDisposable
{
    public const string Library = "/usr/lib/softhsm/libsofthsm2.so";
    public const string UserPin = "5678";
    private const string SoPin = "1234";
    private const string Util = "/usr/bin/softhsm2-util";

    private readonly TempDirectory? _directory;
    private readonly string? _unavailable;

    public SoftHsmFixture()
    {
        if (!File.Exists(Library) || !File.Exists(Util))
        {
            _unavailable = "SoftHSM2 is not installed (apt-get install softhsm2)";
            return;
        }

        var suffix = Guid.NewGuid().ToString("N")[..8];
        TokenLabel = "spe-a-" + suffix;
        OtherTokenLabel = "spe-b-" + suffix;
        _directory = new TempDirectory();
        var tokens = _directory.File("tokens");
        Directory.CreateDirectory(tokens, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        ConfigPath = _directory.File("softhsm2.conf");
        File.WriteAllText(ConfigPath, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");

        // .NET keeps its own copy of the environment on Unix; the native library reads the real one.
        if (NativeMethods.SetEnv("SOFTHSM2_CONF", ConfigPath, 1) != 0)
        {
            throw new InvalidOperationException("setenv(SOFTHSM2_CONF) failed");
        }

        Environment.SetEnvironmentVariable("SOFTHSM2_CONF", ConfigPath);
        InitToken(TokenLabel);
        InitToken(OtherTokenLabel);
    }

    public string TokenLabel { get; } = string.Empty;

    /// <summary>A second token, whose master key is a different one.</summary>
    public string OtherTokenLabel { get; } = string.Empty;

    public string ConfigPath { get; } = string.Empty;

    /// <summary>Skips (or, in CI, fails) the calling test when SoftHSM2 is missing.</summary>
    public void Require()
    {
        if (_unavailable is not null)
        {
            Requirements.Missing(_unavailable);
        }
    }

    internal Pkcs11Options Options(string? tokenLabel = null) => new()
    {
        Library = Library,
        TokenLabel = tokenLabel ?? TokenLabel,
        Pin = UserPin,
    };

    public void Dispose() => _directory?.Dispose();

    private void InitToken(string label)
    {
        var start = new ProcessStartInfo(Util) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--init-token", "--free", "--label", label, "--so-pin", SoPin, "--pin", UserPin })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SOFTHSM2_CONF"] = ConfigPath;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"softhsm2-util --init-token failed: {output}");
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "setenv", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
    }
}
