using System.CommandLine;
using System.CommandLine.Parsing;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Crypt4gh;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe crypt4gh keygen|encrypt|decrypt|reencrypt</c>: the GA4GH Crypt4GH tool, offline. Data flows from standard
/// input to standard output, like the reference <c>crypt4gh</c> tool, one 64 KiB segment at a time whatever the size.
/// </summary>
internal static class Crypt4ghCommands
{
    private const string PassphraseHelp =
        "A locked secret key is unlocked with the passphrase in " + Passphrase.EnvironmentVariable
        + " if set (convenient for scripts, but visible to the processes of the same user), else typed at a prompt on the terminal (/dev/tty, without echo), else the command fails.";

    private const string ExitHelp = "Exit status: 0 success, 1 failure (one line on standard error), 2 bad usage.";

    public static Command Create()
    {
        var command = new Command("crypt4gh", "GA4GH Crypt4GH v1 files and keys, offline: generate a key pair, encrypt, decrypt and re-encrypt the header "
            + "for new readers. encrypt, decrypt and reencrypt read standard input and write standard output, with constant memory at any size; "
            + "files and keys are interchangeable with the reference crypt4gh tool.");
        command.Subcommands.Add(Keygen());
        command.Subcommands.Add(Encrypt());
        command.Subcommands.Add(Decrypt());
        command.Subcommands.Add(Reencrypt());
        return command;
    }

    private static Command Keygen()
    {
        var sk = new Option<string>("--sk") { Description = "Where to write the secret key (created with mode 0600).", HelpName = "file", Required = true };
        var pk = new Option<string>("--pk") { Description = "Where to write the public key, to give to writers.", HelpName = "file", Required = true };
        var kdf = new Option<string>("--kdf")
        {
            Description = "How the passphrase locks the secret key: scrypt (the reference tool's default), bcrypt (OpenSSH bcrypt_pbkdf, 100 rounds), "
                + "pbkdf2 (PBKDF2-HMAC-SHA-256, 100,000 iterations) or none (an unlocked key, same as --nocrypt).",
            HelpName = "name",
            DefaultValueFactory = _ => "scrypt",
        };
        kdf.AcceptOnlyFromAmong("scrypt", "bcrypt", "pbkdf2", "pbkdf2_hmac_sha256", "none");
        var nocrypt = new Option<bool>("--nocrypt") { Description = "Write the secret key unlocked (no passphrase): anyone who can read the file can decrypt." };
        var comment = new Option<string?>("--comment", "-C") { Description = "A comment stored in the secret key file.", HelpName = "text" };
        var force = new Option<bool>("--force", "-f") { Description = "Replace existing key files (otherwise they are never overwritten)." };
        var command = new Command("keygen", "Generate an X25519 key pair in the c4gh-v1 format. The secret key is locked with a passphrase from "
            + Passphrase.EnvironmentVariable + " or typed twice at a terminal prompt (without echo), unless --nocrypt or --kdf none. "
            + "Prints the SHA-256 fingerprint of the public key. " + ExitHelp)
        {
            sk, pk, kdf, nocrypt, comment, force,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            var secretPath = parse.GetValue(sk)!;
            var publicPath = parse.GetValue(pk)!;
            if (Path.GetFullPath(secretPath) == Path.GetFullPath(publicPath))
            {
                throw new SpeUsageException("--sk and --pk name the same file");
            }

            var replace = parse.GetValue(force);
            foreach (var path in new[] { secretPath, publicPath })
            {
                // Checked before anything is written, so that a refusal leaves no new half of a pair behind.
                if (!replace && (File.Exists(path) || Directory.Exists(path)))
                {
                    throw new SpeClientException($"{path} exists; give --force to replace it");
                }
            }

            var method = parse.GetValue(nocrypt) ? Crypt4ghKdf.None : Kdf(parse.GetValue(kdf)!);
            var passphrase = method == Crypt4ghKdf.None ? null : Passphrase.ForLocking(secretPath);
            using var key = Crypt4ghPrivateKey.Generate(parse.GetValue(comment));
            Crypt4ghIo.WriteKeyFile(secretPath, key.ToPem(passphrase, method == Crypt4ghKdf.None ? Crypt4ghKdf.Scrypt : method),
                UnixFileMode.UserRead | UnixFileMode.UserWrite, replace);
            Crypt4ghIo.WriteKeyFile(publicPath, key.PublicKey.ToPem(),
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, replace);
            parse.InvocationConfiguration.Output.WriteLine($"Public key fingerprint (SHA-256): {key.PublicKey.Fingerprint}");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Encrypt()
    {
        var recipients = RecipientOption("A reader's public key; repeat for several readers (each can decrypt on its own).");
        var sk = new Option<string?>("--sk")
        {
            Description = "The writer's secret key, so readers can check the sender with decrypt --sender-pk. Without it a fresh ephemeral key is used and the sender is anonymous.",
            HelpName = "file",
        };
        var range = RangeOption("Store a data edit list so that readers see only these plaintext bytes. Unlike the reference tool, "
            + "which encrypts only the range, the whole input is encrypted: anyone holding a reader's key can still recover the rest, so cut the input instead if it must not be shared.");
        var command = new Command("encrypt", "Encrypt standard input into a Crypt4GH stream on standard output, in 64 KiB segments (ChaCha20-Poly1305), "
            + "with a header readable by each --recipient-pk. " + PassphraseHelp + " " + ExitHelp)
        {
            recipients, sk, range,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            RefuseTerminalOutput();
            var readers = parse.GetValue(recipients)!.Select(Crypt4ghIo.LoadPublicKey).Distinct().ToList();
            using var writer = parse.GetValue(sk) is { } skPath ? Crypt4ghIo.LoadPrivateKey(skPath) : null;
            var options = new Crypt4ghEncryptionOptions { WriterKey = writer, EditList = parse.GetValue(range)?.ToEditList() };
            using var input = Crypt4ghIo.OpenInput();
            using var output = Crypt4ghIo.OpenOutput();
            Crypt4ghFile.Encrypt(input, output, readers, options);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Decrypt()
    {
        var sk = new Option<string>("--sk") { Description = "The reader's secret key.", HelpName = "file", Required = true };
        var sender = new Option<string?>("--sender-pk", "--sender_pk")
        {
            Description = "Accept only header packets written by this public key (check who encrypted the file); others are ignored, so a file from anyone else fails.",
            HelpName = "file",
        };
        var range = RangeOption("Write only these bytes of the plaintext (after the file's own edit list). When standard input is a regular file "
            + "(< file.c4gh) only the segments needed are read; from a pipe the bytes before START are read and authenticated but not written.");
        var command = new Command("decrypt", "Decrypt a Crypt4GH stream from standard input to standard output. Every 64 KiB segment is authenticated "
            + "before any of its bytes is written, so nothing unauthenticated is ever output. If a segment fails (altered, truncated or from another file), "
            + "the command stops with exit 1 and one line on standard error; like the reference tool, the segments before it, each authenticated, "
            + "have already been written to standard output, so treat the output as incomplete unless the exit status is 0. "
            + "A wrong key, a wrong --sender-pk or a malformed header fails before anything is written. " + PassphraseHelp + " " + ExitHelp)
        {
            sk, sender, range,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            using var key = Crypt4ghIo.LoadPrivateKey(parse.GetValue(sk)!);
            var expectedWriter = parse.GetValue(sender) is { } senderPath ? Crypt4ghIo.LoadPublicKey(senderPath) : null;
            using var input = Crypt4ghIo.OpenInput();
            using var output = Crypt4ghIo.OpenOutput();
            using var plaintext = new Crypt4ghDecryptingStream(input, key, expectedWriter, leaveOpen: true);
            if (parse.GetValue(range) is { } wanted)
            {
                CopyRange(plaintext, output, wanted);
            }
            else
            {
                plaintext.CopyTo(output);
            }

            output.Flush();
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Reencrypt()
    {
        var sk = new Option<string>("--sk") { Description = "A secret key that opens the current header.", HelpName = "file", Required = true };
        var recipients = RecipientOption("A new reader's public key; repeat for several readers.");
        var keepOthers = new Option<bool>("--keep-other-packets")
        {
            Description = "Keep, unchanged, the header packets --sk cannot open (other readers keep access). By default they are dropped, "
                + "so only the new readers can decrypt (the opposite default of the reference tool, whose --trim drops them).",
        };
        var command = new Command("reencrypt", "Copy a Crypt4GH stream from standard input to standard output with its header re-encrypted for new readers: "
            + "the data keys and edit list are opened with --sk and encrypted anew (from an ephemeral writer key) for each --recipient-pk; "
            + "the data segments are copied byte for byte, never decrypted. " + PassphraseHelp + " " + ExitHelp)
        {
            sk, recipients, keepOthers,
        };
        command.SetAction(parse => Run(parse, () =>
        {
            RefuseTerminalOutput();
            using var key = Crypt4ghIo.LoadPrivateKey(parse.GetValue(sk)!);
            var readers = parse.GetValue(recipients)!.Select(Crypt4ghIo.LoadPublicKey).Distinct().ToList();
            using var input = Crypt4ghIo.OpenInput();
            using var output = Crypt4ghIo.OpenOutput();
            Crypt4ghFile.Reencrypt(input, output, key, readers, writerKey: null, keepOtherPackets: parse.GetValue(keepOthers));
            output.Flush();
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Option<string[]> RecipientOption(string description) => new("--recipient-pk", "--pk", "--recipient_pk")
    {
        Description = description + " --pk is an alias.",
        HelpName = "file",
        Required = true,
        Arity = ArgumentArity.OneOrMore,
    };

    private static Option<ByteRange?> RangeOption(string description) => new("--range")
    {
        Description = description + " Format: " + ByteRange.Syntax + ".",
        HelpName = "start-end",
        CustomParser = ParseRange,
    };

    private static ByteRange? ParseRange(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        if (ByteRange.TryParse(text, out var range, out var error))
        {
            return range;
        }

        result.AddError(error);
        return null;
    }

    private static Crypt4ghKdf Kdf(string name) => name switch
    {
        "scrypt" => Crypt4ghKdf.Scrypt,
        "bcrypt" => Crypt4ghKdf.Bcrypt,
        "pbkdf2" or "pbkdf2_hmac_sha256" => Crypt4ghKdf.Pbkdf2HmacSha256,
        _ => Crypt4ghKdf.None,
    };

    /// <summary>Writes bytes [START, END) of the plaintext; the decrypting stream still releases only authenticated segments.</summary>
    private static void CopyRange(Crypt4ghDecryptingStream plaintext, Stream output, ByteRange range)
    {
        // Below a segment on purpose: a read of a whole segment takes the stream's direct path, and after a short last
        // segment read that way the next read tries to re-read that segment, which a pipe cannot (NotSupportedException).
        var buffer = new byte[Crypt4ghFile.SegmentSize / 2];
        if (plaintext.CanSeek)
        {
            plaintext.Position = range.Start;
        }
        else
        {
            // A pipe cannot seek: read (and so authenticate) the bytes before the range and drop them.
            var skip = range.Start;
            while (skip > 0)
            {
                var read = plaintext.Read(buffer, 0, (int)Math.Min(buffer.Length, skip));
                if (read == 0)
                {
                    return;
                }

                skip -= read;
            }
        }

        var remaining = range.End is { } end ? end - range.Start : long.MaxValue;
        while (remaining > 0)
        {
            var read = plaintext.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (read == 0)
            {
                break;
            }

            output.Write(buffer, 0, read);
            remaining -= read;
        }

        System.Security.Cryptography.CryptographicOperations.ZeroMemory(buffer);
    }

    /// <summary>Ciphertext on a terminal helps nobody and can upset it; the reference tool would write it anyway.</summary>
    private static void RefuseTerminalOutput()
    {
        if (!Console.IsOutputRedirected)
        {
            throw new SpeUsageException("standard output is a terminal; redirect it to a file or a pipe (> file.c4gh)");
        }
    }

    /// <summary>Runs a verb: a Crypt4GH or client failure is one line on standard error and exit 1, bad usage exit 2.</summary>
    private static int Run(ParseResult parse, Func<int> action)
    {
        var error = parse.InvocationConfiguration.Error;
        var verb = "spe crypt4gh " + parse.CommandResult.Command.Name;
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
        catch (SpeClientException ex)
        {
            error.WriteLine($"{verb}: {ProblemText.OneLine(ex.Message)}");
            return ex.ExitCode;
        }
        catch (Crypt4ghException ex)
        {
            error.WriteLine($"{verb}: {ProblemText.OneLine(ex.Message)}");
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{verb}: {ProblemText.OneLine(ex.Message)}");
            return ExitCodes.Failure;
        }
    }
}
