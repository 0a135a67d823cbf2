using System.Runtime.InteropServices;
using System.Text;
using OpenSpe.Cli.Client;

namespace OpenSpe.Cli.Crypt4gh;

/// <summary>
/// Where the passphrase of a Crypt4GH private key comes from: <c>C4GH_PASSPHRASE</c> (as the reference tool), else a
/// prompt on the controlling terminal. The prompt reads <c>/dev/tty</c>, not standard input, because encrypt and decrypt
/// stream their data through standard input.
/// </summary>
internal static class Passphrase
{
    public const string EnvironmentVariable = "C4GH_PASSPHRASE";

    /// <summary>The passphrase that unlocks the key file <paramref name="keyPath"/>.</summary>
    /// <exception cref="SpeClientException">Neither the variable nor a terminal is available.</exception>
    public static string ForUnlocking(string keyPath)
    {
        if (FromEnvironment() is { } fromEnvironment)
        {
            return fromEnvironment;
        }

        return Terminal.ReadHidden($"Passphrase for {keyPath}: ")
            ?? throw new SpeClientException($"{keyPath} is locked with a passphrase: set {EnvironmentVariable} or run in a terminal to be asked for it");
    }

    /// <summary>A new passphrase to lock <paramref name="keyPath"/>: from the variable, or typed twice on the terminal.</summary>
    public static string ForLocking(string keyPath)
    {
        if (FromEnvironment() is { } fromEnvironment)
        {
            return fromEnvironment;
        }

        var first = Terminal.ReadHidden($"Passphrase to lock {keyPath}: ")
            ?? throw new SpeClientException($"no passphrase for {keyPath}: set {EnvironmentVariable}, run in a terminal to be asked for one, or give --nocrypt for an unlocked key");
        if (first.Length == 0)
        {
            throw new SpeClientException("the passphrase is empty; give --nocrypt for an unlocked key");
        }

        var second = Terminal.ReadHidden("Repeat the passphrase: ") ?? string.Empty;
        return first == second ? first : throw new SpeClientException("the two passphrases differ");
    }

    // An empty variable counts as unset: an empty passphrase cannot lock or unlock anything.
    private static string? FromEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } value ? value : null;

    /// <summary>Reads a line from the controlling terminal with echo off.</summary>
    private static class Terminal
    {
        // struct termios on Linux: c_iflag, c_oflag, c_cflag, c_lflag (4 bytes each), then c_line, c_cc...; 256 bytes is ample.
        private const int TermiosSize = 256;
        private const int LocalFlagsOffset = 12;
        private const byte Echo = 0x08;
        private const int SetNow = 0; // TCSANOW

        /// <summary>The line typed (without its newline), or null when there is no terminal to ask.</summary>
        public static string? ReadHidden(string prompt)
        {
            FileStream tty;
            try
            {
                tty = new FileStream("/dev/tty", FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null; // no controlling terminal (a service, a pipeline under setsid, CI)
            }

            using (tty)
            {
                var fd = (int)tty.SafeFileHandle.DangerousGetHandle();
                var saved = new byte[TermiosSize];
                var haveState = NativeMethods.TcGetAttr(fd, saved) == 0;
                tty.Write(Encoding.UTF8.GetBytes(prompt));

                // Restore echo even when the user gives up with Ctrl+C, or the terminal stays silent afterwards.
                using var interrupt = haveState ? PosixSignalRegistration.Create(PosixSignal.SIGINT, context => RestoreOnInterrupt(fd, saved)) : null;
                if (haveState)
                {
                    var silent = (byte[])saved.Clone();
                    silent[LocalFlagsOffset] &= unchecked((byte)~Echo);
                    _ = NativeMethods.TcSetAttr(fd, SetNow, silent);
                }

                try
                {
                    return ReadLine(tty);
                }
                finally
                {
                    if (haveState)
                    {
                        _ = NativeMethods.TcSetAttr(fd, SetNow, saved);
                    }

                    tty.Write("\n"u8);
                }
            }
        }

        private static void RestoreOnInterrupt(int fd, byte[] saved) => _ = NativeMethods.TcSetAttr(fd, SetNow, saved);

        private static string ReadLine(Stream tty)
        {
            // Byte by byte so that nothing typed after the newline is consumed; a passphrase is short.
            var bytes = new List<byte>();
            Span<byte> one = stackalloc byte[1];
            while (tty.Read(one) == 1 && one[0] != (byte)'\n')
            {
                bytes.Add(one[0]);
            }

            var line = Encoding.UTF8.GetString(bytes.ToArray());
            return line.EndsWith('\r') ? line[..^1] : line;
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "tcgetattr", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int TcGetAttr(int fd, byte[] termios);

        [DllImport("libc", EntryPoint = "tcsetattr", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int TcSetAttr(int fd, int optionalActions, byte[] termios);
    }
}
