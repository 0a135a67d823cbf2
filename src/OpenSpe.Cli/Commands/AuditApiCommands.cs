using System.CommandLine;
using System.Globalization;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// The <c>--server</c> modes of <c>spe audit verify</c> and <c>spe audit export</c>: an auditor on their own machine, over the API
/// with the signed-in session (<c>GET /api/v1/audit/verify</c>, <c>GET /api/v1/audit/export</c>), instead of on the server's
/// data directory.
/// </summary>
internal static class AuditApiCommands
{
    /// <summary>
    /// <c>--server</c> alone uses the session's server; with a URL, it must be the session's server (as for <c>spe audit witness</c>),
    /// so a command line meant for one server never runs against another.
    /// </summary>
    public static Option<string?> ServerOption() => new("--server")
    {
        Description = "Ask the server over the API as the signed-in auditor (see 'spe login') instead of reading a data directory; "
            + "with a URL, it must be the session's server.",
        HelpName = "url",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>True when <c>--server</c> was given, with or without a URL.</summary>
    public static bool Requested(ParseResult parse, Option<string?> server)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return parse.GetResult(server) is not null;
    }

    public static async Task<int> VerifyAsync(ParseResult parse, Option<string?> server, bool json, ClientEnvironment env, CancellationToken cancellationToken)
    {
        return await ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = Open(parse, server, env);
            var (raw, result) = await api.CallAsync<AuditVerificationView>(HttpMethod.Get, "api/v1/audit/verify", null, cancellationToken);
            if (json)
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                WriteVerification(streams.Out, result);
            }

            return result.Valid ? ExitCodes.Success : ExitCodes.Failure;
        });
    }

    public static async Task<int> ExportAsync(ParseResult parse, Option<string?> server, DateTimeOffset? since, DateTimeOffset? until, AuditExportFilters filters, string format,
        FileInfo? output, ClientEnvironment env, CancellationToken cancellationToken)
    {
        return await ClientCommand.RunAsync(parse, async streams =>
        {
            if (since is { } from && until is { } to && from > to)
            {
                throw new SpeUsageException("--until must not be before --since");
            }

            using var api = Open(parse, server, env);
            var query = new List<string> { "format=" + Uri.EscapeDataString(format) };
            foreach (var (name, value) in new[] { ("actor", filters.Actor), ("action", filters.Action), ("project", filters.Project) })
            {
                if (value is not null)
                {
                    query.Add(name + "=" + Uri.EscapeDataString(value));
                }
            }

            if (since is { } s)
            {
                query.Add("since=" + Uri.EscapeDataString(s.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)));
            }

            if (until is { } u)
            {
                query.Add("until=" + Uri.EscapeDataString(u.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)));
            }

            // Note: streamed to the file as it arrives; an export of the whole log can be far larger than memory.
            using var response = await api.GetStreamingAsync("api/v1/audit/export?" + string.Join('&', query), cancellationToken);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            if (output is null)
            {
                // JSON Lines and CSV are UTF-8 text: through the verb's writer, so the output stays one stream with the rest.
                using var reader = new StreamReader(body, System.Text.Encoding.UTF8);
                var buffer = new char[16 * 1024];
                int read;
                while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    await streams.Out.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }

                await streams.Out.FlushAsync(cancellationToken);
                return ExitCodes.Success;
            }

            // Written beside the target and renamed at the end, so a broken download never looks like a complete export.
            var temporary = output.FullName + ".partial";
            try
            {
                await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    await body.CopyToAsync(file, cancellationToken);
                }

                File.Move(temporary, output.FullName, overwrite: true);
            }
            catch
            {
                File.Delete(temporary);
                throw;
            }

            return ExitCodes.Success;
        });
    }

    /// <summary>The fields of a verification, as the offline verb prints them too.</summary>
    public static void WriteVerification(TextWriter output, AuditVerificationView result)
    {
        ArgumentNullException.ThrowIfNull(result);
        TableWriter.WriteFields(output,
        [
            ("Result", result.Valid ? "VALID" : "INVALID"),
            ("Records checked", result.RecordsChecked.ToString(CultureInfo.InvariantCulture)),
            ("Checkpoints checked", result.CheckpointsChecked.ToString(CultureInfo.InvariantCulture)),
            ("First sequence", result.FirstSequence?.ToString(CultureInfo.InvariantCulture)),
            ("Last sequence", result.LastSequence?.ToString(CultureInfo.InvariantCulture)),
            ("Latest checkpoint", TimeText.ForPeople(result.LatestCheckpoint)),
            ("Key id", result.KeyId),
            ("Witnessed checkpoints", result.WitnessedCheckpoints?.ToString(CultureInfo.InvariantCulture)),
            ("First bad sequence", result.FirstBadSequence?.ToString(CultureInfo.InvariantCulture)),
            ("Problem", result.Problem),
            ("Message", result.Message),
        ]);
    }

    private static SpeApiClient Open(ParseResult parse, Option<string?> server, ClientEnvironment env)
    {
        var api = SpeApiClient.Open(env);
        if (parse.GetValue(server) is { Length: > 0 } requested && ServerConnection.ParseServer(requested) != api.Credentials.ServerUri)
        {
            var session = api.Credentials.ServerUri;
            api.Dispose();
            throw new SpeUsageException($"the session is signed in to {session}, not {ServerConnection.ParseServer(requested)}: run 'spe login --server {requested}' first");
        }

        return api;
    }
}
