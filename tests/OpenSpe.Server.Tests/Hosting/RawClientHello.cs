using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace OpenSpe.Server.Tests.Hosting;

/// <summary>What a TLS server answered to a ClientHello.</summary>
/// <param name="Kind">A ServerHello, an alert, or the connection closed without either.</param>
/// <param name="Version">The ServerHello's version field (0x0303 for TLS 1.2).</param>
/// <param name="CipherSuite">The cipher suite the ServerHello chose.</param>
/// <param name="AlertDescription">The alert's description (40 handshake_failure, 70 protocol_version).</param>
public sealed record TlsAnswer(TlsAnswerKind Kind, ushort Version = 0, ushort CipherSuite = 0, byte AlertDescription = 0);

public enum TlsAnswerKind
{
    ServerHello,
    Alert,
    Closed,
}

/// <summary>
/// A hand-written TLS 1.2-style ClientHello sent over a plain socket, so a test sees what the
/// server offers whatever this machine's TLS client library would refuse to send.
/// </summary>
public static class RawClientHello
{
    public const ushort Tls11 = 0x0302;
    public const ushort Tls12 = 0x0303;

    /// <summary>CBC suites (MAC-then-encrypt) with ECDHE and with plain RSA key exchange.</summary>
    public static readonly ushort[] CbcSuites =
    [
        0xC009, 0xC00A, 0xC023, 0xC024, // TLS_ECDHE_ECDSA_WITH_AES_{128,256}_CBC_SHA{,256,384}
        0xC013, 0xC014, 0xC027, 0xC028, // TLS_ECDHE_RSA_WITH_AES_{128,256}_CBC_SHA{,256,384}
        0x002F, 0x0035, 0x003C, 0x003D, // TLS_RSA_WITH_AES_{128,256}_CBC_SHA{,256}
    ];

    /// <summary>TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.</summary>
    public const ushort EcdsaAes128Gcm = 0xC02B;

    /// <summary>TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.</summary>
    public const ushort RsaAes128Gcm = 0xC02F;

    /// <summary>Connects to <paramref name="port"/> on loopback, sends the hello and reads the first answer.</summary>
    public static async Task<TlsAnswer> SendAsync(int port, ushort version, IReadOnlyList<ushort> suites)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Build(version, suites));
        var answer = new byte[512];
        var read = 0;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            // The record header (5 bytes) and the first 39 bytes of a ServerHello's body (through its cipher suite).
            while (read < 5 + 4 + 2 + 32 + 1 + 32 + 2)
            {
                var n = await stream.ReadAsync(answer.AsMemory(read), timeout.Token);
                if (n == 0 || (read + n >= 7 && answer[0] == 0x15))
                {
                    read += n;
                    break;
                }

                read += n;
            }
        }
        catch (IOException)
        {
            // Reset by the server: no ServerHello.
        }

        return Parse(answer.AsSpan(0, read));
    }

    private static TlsAnswer Parse(ReadOnlySpan<byte> answer)
    {
        if (answer.Length >= 7 && answer[0] == 0x15)
        {
            return new TlsAnswer(TlsAnswerKind.Alert, AlertDescription: answer[6]);
        }

        if (answer.Length >= 5 + 4 + 2 + 32 + 1 && answer[0] == 0x16 && answer[5] == 0x02)
        {
            var body = answer[9..];
            var version = BinaryPrimitives.ReadUInt16BigEndian(body);
            var sessionIdLength = body[2 + 32];
            var suite = BinaryPrimitives.ReadUInt16BigEndian(body[(2 + 32 + 1 + sessionIdLength)..]);
            return new TlsAnswer(TlsAnswerKind.ServerHello, version, suite);
        }

        return new TlsAnswer(TlsAnswerKind.Closed);
    }

    /// <summary>The record: a ClientHello of <paramref name="version"/> offering <paramref name="suites"/>, no session, no compression.</summary>
    public static byte[] Build(ushort version, IReadOnlyList<ushort> suites)
    {
        var hello = new List<byte>();
        Add16(hello, version);
        hello.AddRange(RandomNumberGenerator.GetBytes(32));
        hello.Add(0); // no session id
        Add16(hello, (ushort)(suites.Count * 2));
        foreach (var suite in suites)
        {
            Add16(hello, suite);
        }

        hello.AddRange([1, 0]); // compression: null only
        var extensions = new List<byte>();
        Extension(extensions, 0x000A, [0x00, 0x06, 0x00, 0x1D, 0x00, 0x17, 0x00, 0x18]); // supported_groups: x25519, P-256, P-384
        Extension(extensions, 0x000B, [0x01, 0x00]); // ec_point_formats: uncompressed
        Extension(extensions, 0x000D, [0x00, 0x0C, 0x04, 0x03, 0x05, 0x03, 0x08, 0x04, 0x08, 0x05, 0x04, 0x01, 0x05, 0x01]); // signature_algorithms
        Extension(extensions, 0x0017, []); // extended_master_secret
        Extension(extensions, 0xFF01, [0x00]); // renegotiation_info (initial handshake)
        Add16(hello, (ushort)extensions.Count);
        hello.AddRange(extensions);

        var handshake = new List<byte> { 0x01, 0, (byte)(hello.Count >> 8), (byte)hello.Count };
        handshake.AddRange(hello);
        var record = new List<byte> { 0x16, 0x03, 0x01 };
        Add16(record, (ushort)handshake.Count);
        record.AddRange(handshake);
        return [.. record];
    }

    private static void Extension(List<byte> extensions, ushort type, byte[] data)
    {
        Add16(extensions, type);
        Add16(extensions, (ushort)data.Length);
        extensions.AddRange(data);
    }

    private static void Add16(List<byte> bytes, ushort value)
    {
        bytes.Add((byte)(value >> 8));
        bytes.Add((byte)value);
    }
}
