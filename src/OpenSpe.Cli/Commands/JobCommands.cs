using System.CommandLine;
using System.Text.Json;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe job ...</c>: code-to-data jobs in a project's sandbox. <c>spe job run</c> streams the job's output (its standard
/// output to standard output, its standard error to standard error) and exits with the job's exit code.
/// </summary>
internal static class JobCommands
{
    /// <summary>The exit code of a job that ended without one (cancelled or stopped before it ran, or could not start).</summary>
    public const int NoExitCode = 125;

    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        return new Command("job", "Run code on a project's data in its sandbox (no network; the permit's datasets read-only at /data; "
            + "/project shared by the project's members) and read what it printed. Nothing leaves the SPE this way but the output you see.")
        {
            Run(env),
            List(env),
            Logs(env),
            Cancel(env),
        };
    }

    private static Option<string> Project() => new("--project") { Description = "The project's id (see 'spe project list').", Required = true, HelpName = "id" };

    private static Command Run(ClientEnvironment env)
    {
        var project = Project();
        var component = new Option<string?>("--component") { Description = "Run this component the permit approves (checked by its SHA-256) instead of a command; the words after '--' are its arguments.", HelpName = "name" };
        var detach = new Option<bool>("--detach") { Description = "Print the job's id and return at once instead of streaming its output." };
        var command = new Argument<string[]>("command") { Description = "The program and its arguments, after '--' (e.g. -- python3 /project/analysis.py).", Arity = ArgumentArity.ZeroOrMore };
        var verb = new Command("run", "Run a command (or an approved component) in the project's sandbox, stream its output and exit with its exit code "
            + $"({NoExitCode} when it ended without one). Ctrl-C stops following; the job keeps running ('spe job cancel' stops it).")
        {
            project, component, detach, command,
        };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var words = parse.GetValue(command) ?? [];
            var name = parse.GetValue(component)?.Trim();
            if (name is null && words.Length == 0)
            {
                throw new SpeUsageException("give the command to run after '--' (e.g. spe job run --project ID -- python3 /project/a.py), or --component NAME");
            }

            var projectId = parse.GetValue(project)!.Trim();
            using var api = SpeApiClient.Open(env);
            object body = name is null ? new { command = words } : new { component = name, args = words };
            var job = await api.SendAsync<JobView>(HttpMethod.Post, $"api/v1/projects/{Segment(projectId)}/jobs", body, cancellationToken);
            if (parse.GetValue(detach))
            {
                streams.Out.WriteLine(job.Id);
                return ExitCodes.Success;
            }

            streams.Hint($"spe: job {job.Id} {job.State}; following its output");
            var end = await FollowAsync(api, projectId, job.Id, follow: true, streams, cancellationToken);
            return ExitCodeOf(end, job.Id, streams);
        }));
        return verb;
    }

    private static Command List(ClientEnvironment env)
    {
        var project = Project();
        var json = CommonOptions.Json();
        var verb = new Command("list", "List the project's jobs, newest first: state, exit code, what ran, who started it and when.") { project, json };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, jobs) = await api.CallAsync<List<JobView>>(HttpMethod.Get, $"api/v1/projects/{Segment(parse.GetValue(project)!.Trim())}/jobs", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                TableWriter.Write(streams.Out, ["ID", "STATE", "EXIT", "COMMAND", "BY", "CREATED"],
                    jobs.Select(j => (IReadOnlyList<string?>)[j.Id, j.EndReason is null ? j.State : $"{j.State} ({j.EndReason})",
                        j.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", Shorten(j.Component is null ? string.Join(' ', j.Command) : $"{j.Component} {j.ComponentVersion}"),
                        j.SubmittedBy, Time(j.CreatedAt)]),
                    "No jobs in this project yet ('spe job run' starts one).");
            }

            return ExitCodes.Success;
        }));
        return verb;
    }

    private static Command Logs(ClientEnvironment env)
    {
        var project = Project();
        var job = new Argument<string>("job") { Description = "The job's id (see 'spe job list')." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing output as the job writes it, until it ends." };
        var verb = new Command("logs", "Print a job's output (its standard output to standard output, its standard error to standard error).") { project, job, follow };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            await FollowAsync(api, parse.GetValue(project)!.Trim(), parse.GetValue(job)!.Trim(), parse.GetValue(follow), streams, cancellationToken);
            return ExitCodes.Success;
        }));
        return verb;
    }

    private static Command Cancel(ClientEnvironment env)
    {
        var project = Project();
        var job = new Argument<string>("job") { Description = "The job's id (see 'spe job list')." };
        var json = CommonOptions.Json();
        var verb = new Command("cancel", "Cancel a queued or running job of the project (its processes are killed; audited).") { project, job, json };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (raw, view) = await api.CallAsync<JobView>(HttpMethod.Post, $"api/v1/projects/{Segment(parse.GetValue(project)!.Trim())}/jobs/{Segment(parse.GetValue(job)!.Trim())}/cancel", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, raw);
            }
            else
            {
                streams.Out.WriteLine($"Job {view.Id} is {view.State}" + (view.ExitCode is { } code ? $" (exit code {code})." : "."));
            }

            return ExitCodes.Success;
        }));
        return verb;
    }

    /// <summary>Prints the job's log as it arrives; returns its end line, or null when it has not ended (not following).</summary>
    private static async Task<JobLogEntry?> FollowAsync(SpeApiClient api, string projectId, string jobId, bool follow, ClientCommand.Streams streams, CancellationToken cancellationToken)
    {
        using var response = await api.GetStreamingAsync($"api/v1/projects/{Segment(projectId)}/jobs/{Segment(jobId)}/logs?follow={(follow ? "true" : "false")}", cancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        JobLogEntry? end = null;
        while (await ReadLineOrCutAsync(reader, cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            var entry = JsonSerializer.Deserialize<JobLogEntry>(line, JsonSerializerOptions.Web) ?? throw new JsonException("empty log line");
            switch (entry.Stream)
            {
                case JobLogStreams.StandardOutput:
                    await streams.Out.WriteAsync(entry.Text);
                    await streams.Out.FlushAsync(cancellationToken);
                    break;
                case JobLogStreams.StandardError:
                    await streams.Error.WriteAsync(entry.Text);
                    await streams.Error.FlushAsync(cancellationToken);
                    break;
                case JobLogStreams.End:
                    end = entry;
                    break;
            }
        }

        if (follow && end is null)
        {
            // Note: a stream cut before its end line (a halt cuts it, or the connection broke) must not pass for a job that succeeded.
            throw new SpeClientException($"the log of job {jobId} was cut off before the job ended (the project may have been halted); see 'spe job list --project {projectId}'");
        }

        return end;
    }

    /// <summary>The next line, or null at the end of the stream or when the server cut it (a halt resets the connection).</summary>
    internal static async Task<string?> ReadLineOrCutAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadLineAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            // Note: reported by the caller as a log cut off before the job's end, in words, not as the transport's error.
            return null;
        }
    }

    private static int ExitCodeOf(JobLogEntry? end, string jobId, ClientCommand.Streams streams)
    {
        if (end?.State is JobStates.Cancelled or JobStates.Stopped || end?.ExitCode is null)
        {
            streams.Hint($"spe: job {jobId} ended {end?.State ?? "without a state"}" + (end?.Reason is { } r ? $" ({r})" : "") + (end?.ExitCode is { } c ? $" (exit code {c})" : ""));
        }

        return end?.ExitCode ?? NoExitCode;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
