using System.CommandLine;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using OpenSpe.Cli.Transfers;
using OpenSpe.Crypt4gh;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary><c>spe upload</c>: data holders send dataset files, encrypted on their machine for the project's key, with resumable tus uploads.</summary>
internal static class UploadCommands
{
    /// <summary>Per-request timeout of tus requests besides sending the chunk: the server verifying a large file after the last one.</summary>
    public static readonly TimeSpan TransferTimeout = TimeSpan.FromMinutes(10);

    // Note: plus the chunk at 1 Mbit/s, so a slow link still gets whole chunks through (each request's timeout covers its body).
    private const double SlowestLinkBytesPerSecond = 125_000;

    // Note: chunks are streamed from disk, so their size costs no memory; each request costs the server ~8 ms of fixed work
    // (authentication, two audit records, the offset commit), which 64 MiB spreads thin while a drop still loses little.
    private const int DefaultChunkMiB = 64;
    private const int MaxChunkMiB = 256;

    public static Command Create(ClientEnvironment? environment = null, RetrySettings? retry = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var project = new Option<string>("--project") { Description = "The project's id (see 'spe project list').", Required = true, HelpName = "id" };
        var dataset = new Option<string>("--dataset")
        {
            Description = "The permit's dataset the files belong to; you must be the data holder the permit names for it.",
            Required = true,
            HelpName = "id",
        };
        var files = new Argument<string[]>("FILE")
        {
            Description = "Files to upload. Plaintext files are encrypted here for the project's key; files named *.c4gh that are "
                + "already Crypt4GH are sent as they are (give --plaintext-sha256 for each).",
            Arity = ArgumentArity.OneOrMore,
        };
        var chunkSize = new Option<int>("--chunk-size")
        {
            Description = $"Bytes per request, in MiB (1-{MaxChunkMiB}). Chunks are streamed from disk; with --checksum each is held in memory, twice.",
            DefaultValueFactory = _ => DefaultChunkMiB,
            HelpName = "MiB",
        };
        chunkSize.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > MaxChunkMiB)
            {
                result.AddError($"--chunk-size must be between 1 and {MaxChunkMiB} (MiB)");
            }
        });
        var plaintextSha = new Option<string[]>("--plaintext-sha256")
        {
            Description = "For a pre-encrypted .c4gh FILE: the SHA-256 (hex) of its plaintext, which the server checks after decrypting it. "
                + "Repeat once per .c4gh file, in the order the files are given.",
            Arity = ArgumentArity.ZeroOrMore,
            HelpName = "hex",
        };
        var keyFingerprint = new Option<string?>("--key-fingerprint")
        {
            Description = "Refuse to upload unless the project's public key has this SHA-256 fingerprint (hex), e.g. one the data access body sent you.",
            HelpName = "hex",
        };
        var checksum = new Option<bool>("--checksum")
        {
            Description = "Also send each chunk's SHA-256 (the tus checksum extension), so the server refuses a chunk that changed on the way. "
                + "Off by default: TLS already authenticates every byte sent, and the server checks every Crypt4GH segment's MAC and the "
                + "plaintext SHA-256 before it accepts the file; the extra hash costs about as much CPU on each side as the encryption.",
        };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON (project key fingerprint, and per file its id, sizes and SHA-256s) instead of a table." };
        var command = new Command("upload", "Upload dataset files to a project (data holders). Each file is encrypted on this machine with Crypt4GH "
            + "for the project's public key (its fingerprint is shown), into a temporary encrypted copy in $SPE_CACHE_DIR, $XDG_CACHE_HOME/spe "
            + "or ~/.cache/spe (never a plaintext copy), and sent with the tus resumable upload protocol in chunks. "
            + "An interrupted upload (dropped connection, killed process) resumes from the server's offset: run the same command again "
            + "(what it needs is kept in $SPE_CONFIG_DIR/uploads, or the 'uploads' directory next to the session). "
            + "The server decrypts the file once to verify every segment and the plaintext SHA-256 before it accepts it. "
            + "Prints each file's id and plaintext SHA-256. Exit status: 0 all files uploaded, 1 any file failed (the others are still tried), 2 bad usage.")
        {
            project, dataset, files, chunkSize, plaintextSha, keyFingerprint, checksum, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var projectId = parse.GetValue(project)!.Trim();
            var datasetId = parse.GetValue(dataset)!.Trim();
            var items = Plan(parse.GetValue(files) ?? [], parse.GetValue(plaintextSha) ?? []);
            var expectedKey = parse.GetValue(keyFingerprint) is { } k ? NormalizeHex(k, "--key-fingerprint") : null;

            using var api = SpeApiClient.Open(env);
            var credentials = api.Credentials;
            using var connection = env.Connect(credentials.ServerUri, credentials.CaFingerprint,
                TransferTimeout + TimeSpan.FromSeconds(parse.GetValue(chunkSize) * (double)(1 << 20) / SlowestLinkBytesPerSecond));
            var tus = new TusClient(api, connection, env.Time, retry);
            var key = await FetchKeyAsync(api, projectId, expectedKey, cancellationToken);
            streams.Hint($"Project {ProblemText.OneLine(projectId)} public key fingerprint (SHA-256): {key.Fingerprint}");

            var collection = new Uri(credentials.ServerUri, $"api/v1/projects/{Segment(projectId)}/uploads");
            var capabilities = await tus.OptionsAsync(collection, cancellationToken);
            if (!capabilities.Versions.Contains(TusProtocol.Version))
            {
                throw new SpeClientException($"the server speaks tus {string.Join(", ", capabilities.Versions)}, not {TusProtocol.Version}");
            }

            var context = new UploadContext(credentials.Server, projectId, datasetId, collection, key, capabilities,
                parse.GetValue(chunkSize) * 1024 * 1024, TransferPaths.ResolveCacheDirectory(env.Variables), parse.GetValue(checksum));
            var uploader = new FileUploader(tus, api, UploadStateStore.Open(env), context, streams.Error, IsTerminal(streams.Error), env.Time);

            var results = new List<UploadResult>();
            var failures = new List<(string File, string Error)>();
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                try
                {
                    results.Add(await uploader.UploadAsync(item, cancellationToken));
                }
                catch (Exception ex) when (ex is SpeClientException or IOException or UnauthorizedAccessException)
                {
                    failures.Add((item.Source, ex.Message));
                    await streams.Error.WriteLineAsync($"spe: {ProblemText.OneLine(item.DisplayName)}: {ProblemText.OneLine(ex.Message)}");
                    if (ex is SpeClientException and not UploadRefusedException && i < items.Count - 1)
                    {
                        // The session, the server or the network failed, not this file: the next files would fail the same way.
                        streams.Hint($"Not attempted: {string.Join(", ", items.Skip(i + 1).Select(x => ProblemText.OneLine(x.DisplayName)))}. Run the same command again to resume.");
                        break;
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    streams.Hint($"Interrupted. Run the same command again to resume {ProblemText.OneLine(item.DisplayName)} where it stopped.");
                    throw;
                }
            }

            Write(streams, parse.GetValue(json), projectId, key, results, failures);
            return failures.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
        }));
        return command;
    }

    /// <summary>Checks the FILE arguments before anything is sent: they exist, are distinct, and pre-encrypted ones are Crypt4GH and have a plaintext SHA-256.</summary>
    internal static List<UploadItem> Plan(IReadOnlyList<string> files, IReadOnlyList<string> plaintextSha256)
    {
        var items = new List<UploadItem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new Queue<string>(plaintextSha256.Select(h => NormalizeHex(h, "--plaintext-sha256")));
        var preEncrypted = 0;
        foreach (var file in files)
        {
            var path = Path.GetFullPath(file);
            var shown = ProblemText.OneLine(file);
            if (Directory.Exists(path))
            {
                throw new SpeClientException($"{shown} is a directory; give the files in it");
            }

            if (!File.Exists(path))
            {
                throw new SpeClientException($"{shown} does not exist");
            }

            if (!seen.Add(path))
            {
                throw new SpeUsageException($"{shown} is given twice");
            }

            var name = Path.GetFileName(path);
            if (name.EndsWith(".c4gh", StringComparison.OrdinalIgnoreCase))
            {
                if (!Crypt4ghStaging.LooksLikeCrypt4gh(path))
                {
                    throw new SpeClientException($"{shown} is named like a Crypt4GH file but does not start like one (magic 'crypt4gh', version 1); "
                        + "rename it if it is plaintext, so that it is encrypted before it is sent");
                }

                preEncrypted++;
                if (!hashes.TryDequeue(out var hash))
                {
                    throw new SpeUsageException($"{shown} is already encrypted, so its plaintext SHA-256 cannot be computed here: give it with --plaintext-sha256 "
                        + "(e.g. from 'sha256sum' of the original, or 'spe crypt4gh decrypt --sk KEY < FILE | sha256sum')");
                }

                var plainName = name[..^".c4gh".Length];
                if (plainName.Length == 0)
                {
                    throw new SpeClientException($"{shown} has no name before .c4gh; the server needs the plaintext's name (its type is judged by it)");
                }

                items.Add(new UploadItem(path, plainName, UploadMode.PreEncrypted, hash));
            }
            else
            {
                items.Add(new UploadItem(path, name, UploadMode.Encrypt, null));
            }
        }

        if (hashes.Count > 0)
        {
            throw new SpeUsageException($"{plaintextSha256.Count} --plaintext-sha256 given for {preEncrypted} pre-encrypted .c4gh file(s); give exactly one per .c4gh file");
        }

        return items;
    }

    internal static string NormalizeHex(string value, string option)
    {
        var hex = value.Trim().Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        return hex.Length == 64 && hex.All(char.IsAsciiHexDigitLower)
            ? hex
            : throw new SpeUsageException($"{option} must be a SHA-256 in hex (64 digits), not '{ProblemText.OneLine(value)}'");
    }

    /// <summary>The project's public key; its fingerprint must be the one the server states (and the one the user expects, if given).</summary>
    internal static async Task<Crypt4ghPublicKey> FetchKeyAsync(SpeApiClient api, string projectId, string? expected, CancellationToken cancellationToken)
    {
        var view = await api.GetAsync<ProjectPublicKeyView>($"api/v1/projects/{Segment(projectId)}/public-key", cancellationToken);
        Crypt4ghPublicKey key;
        try
        {
            key = Crypt4ghPublicKey.Parse(view.PublicKey ?? "");
        }
        catch (Crypt4ghException ex)
        {
            throw new SpeClientException($"the server's key for project {ProblemText.OneLine(projectId)} is not a Crypt4GH public key: {ProblemText.OneLine(ex.Message)}", ex);
        }

        if (view.Fingerprint is { Length: > 0 } stated && !string.Equals(stated.Trim(), key.Fingerprint, StringComparison.OrdinalIgnoreCase))
        {
            throw new SpeClientException($"the server's key for project {ProblemText.OneLine(projectId)} has fingerprint {key.Fingerprint}, "
                + $"but the server states {ProblemText.OneLine(stated)}; refusing to encrypt for it");
        }

        if (expected is not null && expected != key.Fingerprint)
        {
            throw new SpeClientException($"the key of project {ProblemText.OneLine(projectId)} has fingerprint {key.Fingerprint}, not the --key-fingerprint {expected}; refusing to encrypt for it");
        }

        return key;
    }

    private static void Write(ClientCommand.Streams streams, bool json, string projectId, Crypt4ghPublicKey key, List<UploadResult> results, List<(string File, string Error)> failures)
    {
        if (json)
        {
            JsonOutput.Write(streams.Out, new
            {
                project = projectId,
                keyFingerprint = key.Fingerprint,
                files = results.Select(r => new
                {
                    file = r.File,
                    filename = r.Filename,
                    dataset = r.Dataset,
                    id = r.Id,
                    size = r.Size,
                    plaintextSize = r.PlaintextSize,
                    sha256 = r.Sha256,
                    plaintextSha256 = r.PlaintextSha256,
                    encryptedHere = r.Encrypted,
                    resumed = r.Resumed,
                    bytesSent = r.BytesSent,
                    seconds = Math.Round(r.Seconds, 3),
                }),
                failed = failures.Select(f => new { file = f.File, error = ProblemText.OneLine(f.Error) }),
            });
            return;
        }

        if (results.Count == 0)
        {
            return;
        }

        TableWriter.Write(streams.Out, ["FILE", "ID", "SIZE", "PLAINTEXT-SHA256"],
            results.Select(r => (IReadOnlyList<string?>)[r.Filename, r.Id ?? "-", r.PlaintextSize is { } p ? TransferProgress.Bytes(p) : "-", r.PlaintextSha256]), "No files uploaded.");
        foreach (var r in results.Where(r => r.Id is null))
        {
            streams.Hint($"{r.Filename}: uploaded, but the server did not say which file id it got; see 'spe dataset list --project {ProblemText.OneLine(projectId)}'.");
        }
    }

    /// <summary>A progress bar only when standard error is the console and a terminal; a line per 10% otherwise.</summary>
    private static bool IsTerminal(TextWriter error) => ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected
        && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);
}
