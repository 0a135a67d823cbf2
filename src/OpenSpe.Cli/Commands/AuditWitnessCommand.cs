using System.CommandLine;
using System.Globalization;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using OpenSpe.Core.Audit;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe audit witness</c>: an auditor (or a cron job on another machine) fetches the newest
/// signed checkpoint and appends it to a witness file, after checking its signature against a
/// pinned key and that it follows the checkpoints the file already holds.
/// </summary>
internal static class AuditWitnessCommand
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var server = new Option<string?>("--server")
        {
            Description = "The server to witness (default: the server of the current session; it must be the session's server, see 'spe login').",
            HelpName = "url",
        };
        var output = new Option<FileInfo>("--out")
        {
            Description = "Witness file (JSON Lines, one checkpoint per line); created when missing, otherwise appended to. Keep it away from the server.",
            Required = true,
            HelpName = "file",
        };
        var publicKey = new Option<FileInfo?>("--public-key")
        {
            Description = "Pin this checkpoint public key (PEM, from 'spe audit public-key'); default: the key of the file's first checkpoint, or on the first run the key the server presents.",
            HelpName = "file",
        };
        var json = CommonOptions.Json();
        var command = new Command("witness", "Save the newest signed audit checkpoint (role auditor) to a witness file kept apart from the server. "
            + "Refuses (exit 1, file unchanged) a checkpoint whose signature does not verify with the pinned key, or that is older than or disagrees with the last one in the file: "
            + "that means the log was truncated or rewritten. Later, 'spe audit verify --witness FILE' proves the log still contains every saved checkpoint.")
        {
            server, output, publicKey, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var file = parse.GetValue(output)!;
            using var api = SpeApiClient.Open(env);
            if (parse.GetValue(server) is { } requested && ServerConnection.ParseServer(requested) != api.Credentials.ServerUri)
            {
                throw new SpeUsageException($"the session is signed in to {api.Credentials.ServerUri}, not {ServerConnection.ParseServer(requested)}: run 'spe login --server {requested}' first");
            }

            var held = ReadWitnessFile(file.FullName);
            var last = held.Count == 0 ? null : held[^1].Checkpoint;
            var (_, served) = await api.CallAsync<AuditCheckpointDocument>(HttpMethod.Get, "api/v1/audit/checkpoints/latest", null, cancellationToken);
            AuditCheckpoint checkpoint;
            try
            {
                checkpoint = served.ToCheckpoint();
            }
            catch (FormatException ex)
            {
                throw new SpeClientException($"the server's checkpoint is malformed: {ex.Message}", ex);
            }

            var (pinnedPem, pinSource) = parse.GetValue(publicKey) is { } keyFile
                ? (File.ReadAllText(keyFile.FullName), keyFile.FullName)
                : held.Count > 0 && held[0].Checkpoint.PublicKeyPem is { Length: > 0 } firstPem
                    ? (firstPem, $"the first checkpoint in {file.FullName}")
                    : (served.PublicKeyPem ?? "", "the server (first run: compare the key id with 'spe audit public-key' on the server)");
            using var pinned = LoadKey(pinnedPem, pinSource);
            // Note: the signature is checked against the pinned key, never only against the key the
            // server sends with the checkpoint, because whoever replaced the key could sign anything.
            if (!pinned.Verify(checkpoint))
            {
                throw new SpeClientException($"refusing to save: the checkpoint at sequence {checkpoint.Sequence} is not signed by the pinned key {pinned.KeyId} ({pinSource})");
            }

            var refusal = AuditWitnessHistory.Decide(last, served, out var unchanged);
            if (refusal is not null)
            {
                throw new SpeClientException($"refusing to save to {file.FullName}: {refusal}");
            }

            if (!unchanged)
            {
                AuditWitnessFile.Append(file.FullName, served with { PublicKeyPem = pinned.ExportPublicKeyPem() });
            }

            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, new { saved = !unchanged, file = file.FullName, checkpoint = served });
            }
            else
            {
                TableWriter.WriteFields(streams.Out,
                [
                    ("Result", unchanged ? "UNCHANGED (the file already holds this head)" : "SAVED"),
                    ("Sequence", served.Sequence.ToString(CultureInfo.InvariantCulture)),
                    ("Hash", served.Hash),
                    ("Signed at", TimeText.ForPeople(served.Timestamp)),
                    ("Kind", served.Kind),
                    ("Key id", pinned.KeyId),
                    ("Witness file", file.FullName),
                ]);
                if (held.Count == 0 && parse.GetValue(publicKey) is null)
                {
                    streams.Hint($"First checkpoint in this file: key {pinned.KeyId} is now pinned; check it against 'spe audit public-key' on the server.");
                }
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static List<(int Line, AuditCheckpointDocument Checkpoint)> ReadWitnessFile(string path)
    {
        try
        {
            return AuditWitnessFile.ReadAll(path);
        }
        catch (FormatException ex)
        {
            throw new SpeClientException($"refusing to append: {ex.Message}", ex);
        }
    }

    private static AuditSigningKey LoadKey(string pem, string source)
    {
        try
        {
            return AuditSigningKey.FromPem(pem);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new SpeClientException($"the checkpoint public key from {source} is not an ECDSA P-256 key", ex);
        }
    }
}
