using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using OpenSpe.Core.Federation;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe federation ca init</c> and <c>spe federation cert issue|revoke</c>: the federation CA's tools, offline, on the CA's
/// directory (FSPER-1, TIR-30, TIR-31). Keys are written 0600 and never overwritten; every change of the revocation list is
/// picked up by the nodes without a restart.
/// </summary>
internal static class FederationCaCommands
{
    private const string ExitHelp = "Exit status: 0 success, 1 failure (one line on standard error), 2 bad usage.";

    /// <summary>The <c>federation</c> verb with its CA and certificate sub-verbs.</summary>
    public static Command Create()
    {
        var command = new Command("federation", "Federation between SPEs: the federation CA and node certificates (offline tools).");
        var ca = new Command("ca", "The federation certificate authority.");
        ca.Subcommands.Add(Init());
        var cert = new Command("cert", "Node certificates signed by the federation CA.");
        cert.Subcommands.Add(Issue());
        cert.Subcommands.Add(Revoke());
        command.Subcommands.Add(ca);
        command.Subcommands.Add(cert);
        return command;
    }

    private static Option<string> CaDirectory(string name, string description) =>
        new(name) { Description = description, HelpName = "dir", Required = true };

    private static Command Init()
    {
        var dir = CaDirectory("--dir", "The CA's directory (created 0700; must not hold a CA already).");
        var name = new Option<string>("--name") { Description = "The CA's common name.", HelpName = "text", DefaultValueFactory = _ => "OpenSPE federation CA" };
        var days = new Option<int>("--days") { Description = "How long the CA certificate is valid.", HelpName = "days", DefaultValueFactory = _ => 3650 };
        var json = CommonOptions.Json();
        var command = new Command("init", "Create a federation CA: an ECDSA P-384 key (ca.key, 0600), its self-signed certificate (ca.crt, to give to every node "
            + "as Federation:CaCertificate) and an empty revocation list (ca.crl, Federation:Crl). " + ExitHelp)
        {
            dir, name, days, json,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            var lifetime = Days(parse.GetValue(days));
            using var created = FederationCa.Create(parse.GetValue(dir)!, parse.GetValue(name)!, DateTimeOffset.UtcNow, lifetime);
            Describe(parse.GetValue(json), [
                ("Directory", Path.GetFullPath(created.Directory)),
                ("Certificate", Path.Combine(Path.GetFullPath(created.Directory), FederationCa.CertificateFile)),
                ("Revocation list", created.CrlPath),
                ("Fingerprint", created.Certificate.GetCertHashString(HashAlgorithmName.SHA256)),
                ("Valid until", created.Certificate.NotAfter.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture)),
            ]);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Issue()
    {
        var ca = CaDirectory("--ca", "The CA's directory.");
        var name = new Option<string>("--name") { Description = "The node's name (subject CN and DNS SAN; what peers put on Federation:AllowedPeers).", HelpName = "node", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write NAME.crt, NAME.key (0600) and ca.crt.", HelpName = "dir", Required = true };
        var days = new Option<int>("--days") { Description = "How long the certificate is valid (never past the CA's own end).", HelpName = "days", DefaultValueFactory = _ => 365 };
        var json = CommonOptions.Json();
        var command = new Command("issue", "Issue a node certificate (ECDSA P-256, TLS client and server) for a federation node. " + ExitHelp)
        {
            ca, name, output, days, json,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            var lifetime = Days(parse.GetValue(days));
            using var authority = FederationCa.Open(parse.GetValue(ca)!);
            var now = DateTimeOffset.UtcNow;
            var node = parse.GetValue(name)!;
            var outDir = Path.GetFullPath(parse.GetValue(output)!);
            using var issued = authority.Issue(node, outDir, now.AddMinutes(-5), now.Add(lifetime));
            Describe(parse.GetValue(json), [
                ("Name", node),
                ("Certificate", Path.Combine(outDir, node + ".crt")),
                ("Key", Path.Combine(outDir, node + ".key")),
                ("Serial", issued.SerialNumber),
                ("Valid until", issued.NotAfter.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture)),
            ]);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Revoke()
    {
        var ca = CaDirectory("--ca", "The CA's directory.");
        var name = new Option<string>("--name") { Description = "The node whose certificates are revoked.", HelpName = "node", Required = true };
        var json = CommonOptions.Json();
        var command = new Command("revoke", "Revoke every certificate the CA issued to a node and write a new revocation list (ca.crl); nodes that read it "
            + "as Federation:Crl refuse the node from their next handshake on, without a restart. " + ExitHelp)
        {
            ca, name, json,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            using var authority = FederationCa.Open(parse.GetValue(ca)!);
            var revoked = authority.Revoke(parse.GetValue(name)!, DateTimeOffset.UtcNow);
            Describe(parse.GetValue(json), [
                ("Name", parse.GetValue(name)!),
                ("Revoked now", revoked.Count == 0 ? "none (already revoked)" : string.Join(", ", revoked)),
                ("Revocation list", authority.CrlPath),
            ]);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static TimeSpan Days(int days) =>
        days is >= 1 and <= 36500 ? TimeSpan.FromDays(days) : throw new SpeUsageException("--days must be between 1 and 36500");

    private static void Describe(bool json, IReadOnlyList<(string Name, string? Value)> fields)
    {
        if (json)
        {
            JsonOutput.Write(Console.Out, fields.ToDictionary(f => JsonName(f.Name), f => f.Value));
        }
        else
        {
            TableWriter.WriteFields(Console.Out, fields);
        }
    }

    private static string JsonName(string name)
    {
        var words = name.Split(' ');
        return string.Concat(words.Select((w, i) => i == 0 ? w.ToLowerInvariant() : char.ToUpperInvariant(w[0]) + w[1..]));
    }

    private static int Run(ParseResult parse, Func<int> action)
    {
        var error = parse.InvocationConfiguration.Error;
        var verb = ClientCommand.CommandPath(parse);
        try
        {
            return action();
        }
        catch (SpeUsageException ex)
        {
            error.WriteLine($"{verb}: {ProblemText.OneLine(ex.Message)}");
            error.WriteLine($"Run '{verb} --help' for usage.");
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is FederationCaException or CryptographicException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{verb}: {ProblemText.OneLine(ex.Message)}");
            return ExitCodes.Failure;
        }
    }
}
