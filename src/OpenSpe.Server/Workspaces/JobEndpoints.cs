using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Permits;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Workspaces;

/// <summary>
/// Code-to-data jobs under <c>/api/v1/projects/{projectId}/jobs</c> (FCR-3, SPER-1): submit, list, show, read or follow the
/// log, cancel. Every route passes the access chain with a <see cref="JobActions"/> action.
/// </summary>
internal static class JobEndpoints
{
    public static IEndpointRouteBuilder MapJobEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/projects/{projectId}/jobs").WithTags("Jobs").WithMetadata(new AuditResourceAttribute("job")).ProducesProjectProblems()
            .RequireAuthorization(); // Note: the default policy, a person signed in with a second factor; applications do not run jobs (yet).
        group.MapPost("", RunAsync).WithName("jobs.run").WithMetadata(JobActions.Run).Validate<JobRunRequest>().ProducesProblems(403, 422, 429, 503)
            .WithSummary("Runs a command, or a component the permit approves, in the project's sandbox with the permit's datasets at /data (read-only); 202 with the job, queued or running.");
        group.MapGet("", ListAsync).WithName("jobs.list").WithMetadata(JobActions.Read)
            .WithSummary("The project's jobs, newest first (every data user of the project sees them all).");
        group.MapGet("/{jobId}", ShowAsync).WithName("jobs.show").WithMetadata(JobActions.Read).ProducesProblems(404)
            .WithSummary("One job: state, exit code, times, who started it.");
        group.MapGet("/{jobId}/logs", LogsAsync).WithName("jobs.logs").WithMetadata(JobActions.Read).WithAuditStreaming().ProducesProblems(404)
            .Produces<JobLogEntry>(StatusCodes.Status200OK, JobLogStreams.MediaType)
            .WithSummary("The job's output as NDJSON lines ({stream: stdout|stderr, text}), then an 'end' line with the final state once it ended; ?follow=true streams until it ends.");
        group.MapPost("/{jobId}/cancel", CancelAsync).WithName("jobs.cancel").WithMetadata(JobActions.Cancel).ProducesProblems(404, 409)
            .WithSummary("Cancels a queued or running job (its process tree is killed); answers the job once its end is recorded.");
        return routes;
    }

    private static async Task<Results<Accepted<JobView>, ProblemHttpResult, ValidationProblem>> RunAsync(
        string projectId, JobRunRequest request, HttpContext context, PermitService permits, IWorkspaceRuntime runtime, ComponentVerifier components,
        JobScheduler scheduler, SpeDbContext database, TimeProvider time, IAuditLog audit)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        if (Invalid(request) is { } invalid)
        {
            return invalid;
        }

        if (!runtime.Availability.IsAvailable)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "This server cannot run sandboxes: " + runtime.Availability.Reason + ".", ErrorCodes.WorkspacesUnavailable);
        }

        var document = await permits.CurrentDocumentAsync(access.Permit, context.RequestAborted);
        // Note: the permit says which kinds of workspace its members may start (SPER-2); jobs only where it names them.
        if (document.Policies?.WorkspaceKinds?.Contains(JobActions.WorkspaceKind) != true)
        {
            AuditDenialReason.Set(context, "workspace-kind-not-allowed");
            return Problems.Of(StatusCodes.Status403Forbidden, "The permit does not allow jobs in this project (policies.workspaceKinds has no 'job').", ErrorCodes.WorkspaceKindNotAllowed);
        }

        var member = context.User.FindFirst("preferred_username")?.Value ?? "";
        var accountId = context.User.FindFirst("sub")?.Value ?? "";
        IReadOnlyList<string> shown;
        IReadOnlyList<string> command;
        PermitComponent? component = null;
        if (request.Component is { } name)
        {
            // "name" is the first version the permit lists; "name@version" a given one.
            var at = name.IndexOf('@', StringComparison.Ordinal);
            component = document.Policies.ApprovedComponents?.FirstOrDefault(c => at < 0 ? c.Name == name : c.Name == name[..at] && c.Version == name[(at + 1)..]);
            var path = component is null ? null : components.PathOf(component);
            if (component is null || path is null)
            {
                AuditDenialReason.Set(context, "component-not-approved");
                return Problems.Of(StatusCodes.Status403Forbidden, $"The permit approves no component named '{name}' that can run (policies.approvedComponents).", ErrorCodes.ComponentNotApproved);
            }

            // Note: the build the HDAB approved, by its SHA-256, and nothing else runs under its name (FCR-4); the job checks
            // its private copy again before it runs it.
            var actual = await components.Sha256Async(projectId, member, path, context.RequestAborted);
            if (!string.Equals(actual, component.Sha256, StringComparison.Ordinal))
            {
                AuditDenialReason.Set(context, "component-sha256-mismatch");
                await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), "job.refused", new AuditResource("component", $"{component.Name}@{component.Version}", projectId),
                    AuditOutcome.Denied, StatusCodes.Status422UnprocessableEntity, TraceIds.Current(context),
                    new Dictionary<string, string> { ["reason"] = "component-sha256-mismatch", ["approved"] = component.Sha256, ["actual"] = actual ?? "missing" }), CancellationToken.None);
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, actual is null
                    ? $"The approved component {component.Name} {component.Version} is not at {path} in the project."
                    : $"{path} is not the approved build of {component.Name} {component.Version}: its SHA-256 is {actual}, the permit approves {component.Sha256}.", ErrorCodes.ComponentHashMismatch);
            }

            shown = [path, .. request.Args ?? []];
            command = ComponentVerifier.CommandFor(path, component, request.Args ?? []);
        }
        else
        {
            shown = command = request.Command!;
        }

        if (!scheduler.TryReserve(projectId))
        {
            AuditDenialReason.Set(context, "job-queue-full");
            return Problems.Of(StatusCodes.Status429TooManyRequests, "The project's job queue is full; wait for jobs to end or cancel some.", ErrorCodes.JobQueueFull);
        }

        var job = new JobEntity
        {
            Id = "job-" + RandomNumberGenerator.GetHexString(20, lowercase: true),
            ProjectId = projectId,
            SubmittedBy = accountId,
            SubmittedByName = member,
            CommandJson = JsonSerializer.Serialize(shown),
            Component = component?.Name,
            ComponentVersion = component?.Version,
            ComponentSha256 = component?.Sha256,
            State = JobStates.Queued,
            CreatedAt = time.GetUtcNow(),
        };
        var commandName = component is null ? Path.GetFileName(shown[0]) : $"{component.Name}@{component.Version}";
        try
        {
            database.Jobs.Add(job);
            await database.SaveChangesAsync(CancellationToken.None);
            await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), "job.submitted", new AuditResource("job", job.Id, projectId),
                AuditOutcome.Success, StatusCodes.Status202Accepted, TraceIds.Current(context),
                new Dictionary<string, string> { ["command"] = commandName, ["arguments"] = (shown.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) }), CancellationToken.None);
        }
        catch
        {
            scheduler.Release(projectId);
            throw;
        }

        scheduler.Enqueue(new JobRun
        {
            Id = job.Id,
            ProjectId = projectId,
            AccountId = accountId,
            Member = member,
            Command = command,
            CommandName = commandName,
            ExternalSignIn = IdentitySetup.ExternalSignIn(context.User),
        });
        return TypedResults.Accepted($"/api/v1/projects/{projectId}/jobs/{job.Id}", ViewOf(job));
    }

    private static async Task<Ok<List<JobView>>> ListAsync(string projectId, SpeDbContext database, CancellationToken cancellationToken)
    {
        var jobs = await database.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId).ToListAsync(cancellationToken);
        return TypedResults.Ok(jobs.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id, StringComparer.Ordinal).Select(ViewOf).ToList());
    }

    private static async Task<Results<Ok<JobView>, ProblemHttpResult>> ShowAsync(string projectId, string jobId, SpeDbContext database, CancellationToken cancellationToken) =>
        await FindAsync(database, projectId, jobId, cancellationToken) is { } job ? TypedResults.Ok(ViewOf(job)) : NotFound(jobId);

    private static async Task<Results<Ok<JobView>, ProblemHttpResult>> CancelAsync(string projectId, string jobId, HttpContext context, SpeDbContext database,
        JobScheduler scheduler, JobRecorder recorder, IAuditLog audit)
    {
        var job = await FindAsync(database, projectId, jobId, context.RequestAborted);
        if (job is null)
        {
            return NotFound(jobId);
        }

        if (JobStates.IsFinal(job.State))
        {
            return Problems.Of(StatusCodes.Status409Conflict, $"Job {jobId} has ended already ({job.State}).", ErrorCodes.JobEnded);
        }

        await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), "job.cancel-requested", new AuditResource("job", jobId, projectId),
            AuditOutcome.Success, null, TraceIds.Current(context)), CancellationToken.None);
        if (!await scheduler.CancelAsync(jobId, context.RequestAborted))
        {
            // Note: a job row no instance holds (its server stopped while it ran) is ended here, so it does not stay running forever.
            using var orphan = new JobRun { Id = job.Id, ProjectId = projectId, AccountId = job.SubmittedBy, Member = job.SubmittedByName, Command = [], CommandName = "" };
            await recorder.MarkEndedAsync(orphan, JobStates.Cancelled, job.ExitCode, JobEndReasons.Of(WorkspaceStopReason.Requested));
        }

        database.ChangeTracker.Clear();
        return TypedResults.Ok(ViewOf((await FindAsync(database, projectId, jobId, CancellationToken.None))!));
    }

    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> LogsAsync(string projectId, string jobId, bool? follow, HttpContext context, SpeDbContext database,
        JobScheduler scheduler, JobLogStore logs)
    {
        var job = await FindAsync(database, projectId, jobId, context.RequestAborted);
        if (job is null)
        {
            return NotFound(jobId);
        }

        var cancellationToken = context.RequestAborted;
        context.Response.ContentType = JobLogStreams.MediaType;
        var signal = follow == true && !JobStates.IsFinal(job.State) ? logs.SignalOf(jobId) : null;
        var reader = new JobLogReader(logs, projectId, jobId);
        try
        {
            while (true)
            {
                var next = signal?.Next;
                // Whether it has ended is read before the log, so that a log read after it ended is read whole.
                var ended = JobStates.IsFinal(job.State) || (scheduler.Find(jobId) is null && await IsFinalAsync(database, jobId, cancellationToken));
                await reader.CopyAsync(context.Response.Body, cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
                if (ended || signal is null)
                {
                    break;
                }

                // Note: a job another instance runs pulses no signal here, so the log and the state are read again each second too.
                await Task.WhenAny(next!, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            reader.Dispose();
        }

        database.ChangeTracker.Clear();
        var final = await FindAsync(database, projectId, jobId, cancellationToken);
        if (final is not null && JobStates.IsFinal(final.State))
        {
            await context.Response.Body.WriteAsync(JobLogJson.Line(new JobLogEntry(JobLogStreams.End, State: final.State, ExitCode: final.ExitCode, Reason: final.EndReason)), cancellationToken);
        }

        return TypedResults.Empty;
    }

    private static async Task<bool> IsFinalAsync(SpeDbContext database, string jobId, CancellationToken cancellationToken) =>
        JobStates.IsFinal(await database.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => j.State).FirstAsync(cancellationToken));

    private static Task<JobEntity?> FindAsync(SpeDbContext database, string projectId, string jobId, CancellationToken cancellationToken) =>
        database.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId && j.ProjectId == projectId, cancellationToken);

    private static ProblemHttpResult NotFound(string jobId) => Problems.Of(StatusCodes.Status404NotFound, $"This project has no job {jobId}.", ErrorCodes.NotFound);

    private static ValidationProblem? Invalid(JobRunRequest request)
    {
        if ((request.Command is null) == (request.Component is null))
        {
            return Problems.Invalid("command", "Give either command (program and arguments) or component (an approved component's name), not both.");
        }

        if (request.Command is { } command && (command.Count == 0 || command[0].Length == 0))
        {
            return Problems.Invalid("command", "The command needs a program.");
        }

        if (request.Command is not null && request.Args is not null)
        {
            return Problems.Invalid("args", "args go with component; a command carries its own arguments.");
        }

        // Note: a NUL cannot pass through execve, and over-long arguments only waste the sandbox's start.
        var all = (request.Command ?? []).Concat(request.Args ?? []).ToList();
        if (all.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal) || a.Length > 32_768))
        {
            return Problems.Invalid(request.Command is null ? "args" : "command", "Arguments must be strings without NUL of at most 32768 characters.");
        }

        return null;
    }

    internal static JobView ViewOf(JobEntity job) => new(job.Id, job.ProjectId, job.State, JsonSerializer.Deserialize<List<string>>(job.CommandJson) ?? [],
        job.Component, job.ComponentVersion, job.ExitCode, job.EndReason, job.SubmittedByName, job.CreatedAt, job.StartedAt, job.EndedAt);
}
