using System.Buffers.Binary;

namespace OpenSpe.Server.Terminal;

/// <summary>
/// The PTY helper that runs inside the sandbox, and the framing the gateway speaks to it over the sandbox's standard input.
/// The helper opens a pseudo-terminal on the sandbox's own <c>devpts</c> (bubblewrap's <c>--dev</c> mounts a new instance: no
/// host terminal is visible or reachable), starts the shell on it as its controlling terminal, and relays: the PTY's output
/// goes raw to standard output; standard input carries frames of 1 byte type, 4 bytes big-endian length and the body,
/// <see cref="Input"/> (bytes for the terminal) or <see cref="Resize"/> (2 bytes rows, 2 bytes columns, big-endian, applied
/// with <c>TIOCSWINSZ</c>, which also signals the shell with SIGWINCH). It exits with the shell's exit code.
/// </summary>
/// <remarks>
/// Note: a helper rather than util-linux <c>script</c>, because <c>script</c> relays a single byte stream: a window size change
/// would have to be typed into the shell (<c>stty rows … cols …</c>), which a running program (an editor, a REPL) would read
/// as input. Python's standard library (pty, termios, select) is all it needs, and <c>python3</c> is in every workspace image.
/// Writes to the PTY are non-blocking with their own queue, so a shell that does not read cannot stall its output.
/// </remarks>
internal static class TerminalPty
{
    /// <summary>Frame type: bytes for the terminal.</summary>
    public const byte Input = 0;

    /// <summary>Frame type: a window size.</summary>
    public const byte Resize = 1;

    /// <summary>The helper, for <c>python3 -I -S -c</c>, with arguments: rows, columns, then the shell's command line.</summary>
    public const string Script = """
        import errno, fcntl, os, select, signal, struct, sys, termios
        rows, cols, shell = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
        master, slave = os.openpty()
        def winsize(r, c):
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
        winsize(rows, cols)
        pid = os.fork()
        if pid == 0:
            try:
                os.close(master)
                os.setsid()
                fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(slave, fd)
                if slave > 2:
                    os.close(slave)
                os.execvp(shell[0], shell)
            finally:
                os._exit(127)
        os.close(slave)
        os.set_blocking(master, False)
        def out(data):
            while data:
                data = data[os.write(1, data):]
        def drain():
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    return
                if not data:
                    return
                out(data)
        pending, inbuf, stdin_open, status = bytearray(), bytearray(), True, None
        while status is None:
            rl = [master] + ([0] if stdin_open and len(pending) < (1 << 20) else [])
            r, w, _ = select.select(rl, [master] if pending else [], [], 0.25)
            if master in r:
                try:
                    data = os.read(master, 65536)
                except BlockingIOError:
                    data = None
                except OSError:
                    data = b""
                if data == b"":
                    break
                if data:
                    out(data)
            if master in w:
                try:
                    del pending[:os.write(master, pending)]
                except BlockingIOError:
                    pass
            if 0 in r:
                data = os.read(0, 65536)
                if not data:
                    stdin_open = False
                    try:
                        os.killpg(pid, signal.SIGHUP)
                    except ProcessLookupError:
                        pass
                inbuf += data
                while len(inbuf) >= 5:
                    kind, n = inbuf[0], struct.unpack_from(">I", inbuf, 1)[0]
                    if n > (1 << 24) or kind > 1:
                        os.killpg(pid, signal.SIGKILL)
                        sys.exit(125)
                    if len(inbuf) < 5 + n:
                        break
                    body = bytes(inbuf[5:5 + n])
                    del inbuf[:5 + n]
                    if kind == 0:
                        pending += body
                    elif n == 4:
                        winsize(*struct.unpack(">HH", body))
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        drain()
        if status is None:
            status = os.waitpid(pid, 0)[1]
        code = os.waitstatus_to_exitcode(status)
        sys.exit(128 - code if code < 0 else code)
        """;

    /// <summary>Writes one frame to the helper's standard input.</summary>
    public static async ValueTask WriteFrameAsync(Stream helper, byte type, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(helper);
        var header = new byte[5];
        header[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1), body.Length);
        await helper.WriteAsync(header, cancellationToken);
        await helper.WriteAsync(body, cancellationToken);
        await helper.FlushAsync(cancellationToken);
    }

    /// <summary>The body of a <see cref="Resize"/> frame (and of a resize record in the recording).</summary>
    public static byte[] ResizeBody(int rows, int cols)
    {
        var body = new byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)rows);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2), (ushort)cols);
        return body;
    }
}
