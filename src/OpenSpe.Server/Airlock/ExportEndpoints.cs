using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Disclosure;
using OpenSpe.Disclosure.Descriptions;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Airlock;

/// <summary>
/// Export requests under <c>/api/v1/projects/{projectId}/exports</c> (EHDSR-12, EHDSR-13, FCR-6): submit files of
/// <c>/outputs</c> (frozen, checked, encrypted), list and show, review, and download a released file. Every route passes the
/// access chain with an <see cref="AirlockActions"/> action.
/// </summary>
internal static class ExportEndpoints
{
    /// <summary>The most files one listing of <c>/outputs</c> returns (an export request names at most 50).</summary>
    public const int MaxListedOutputs = 1000;

    public static IEndpointRouteBuilder MapExportEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/projects/{projectId}/outputs", ListOutputsAsync).WithTags("Airlock").WithMetadata(new AuditResourceAttribute("outputs"))
            .WithName("outputs.list").WithMetadata(AirlockActions.OutputList).RequireAuthorization().ProducesProjectProblems().ProducesProblems(503)
            .WithSummary($"The files under /outputs an export request can name (name, size, last change), sorted by name, at most {MaxListedOutputs}; symlinks are neither listed nor followed, and no content is read.");
        var group = routes.MapGroup("/api/v1/projects/{projectId}/exports").WithTags("Airlock").WithMetadata(new AuditResourceAttribute("export")).ProducesProjectProblems()
            .RequireAuthorization(); // Note: the default policy, a person with a second factor: applications neither export nor review.
        group.MapPost("", CreateAsync).WithName("exports.create").WithMetadata(AirlockActions.ExportRequest).Validate<ExportCreateRequest>()
            .ProducesProblems(403, 422, 503)
            .WithSummary("Asks to take files of /outputs out: they are frozen by SHA-256 and encrypted now, checked automatically under the permit's policies.airlock, and wait for output checkers.");
        group.MapGet("", ListAsync).WithName("exports.list").WithMetadata(AirlockActions.ExportRead)
            .WithSummary("The project's export requests, newest first (members, and the independent output checkers).");
        group.MapGet("/{requestId}", ShowAsync).WithName("exports.show").WithMetadata(AirlockActions.ExportRead).ProducesProblems(404)
            .WithSummary("One export request: each file's hash, automatic check report and state, and every decision.");
        group.MapPost("/{requestId}/reviews", ReviewAsync).WithName("exports.review").WithMetadata(AirlockActions.ExportReview).Validate<AirlockReviewRequest>()
            .ProducesProblems(403, 404, 409, 422)
            .WithSummary("An output checker's decision on one file or every pending file: approve, reject, or send back for changes.");
        group.MapGet("/{requestId}/files/{name}", DownloadAsync).WithName("exports.download").WithMetadata(AirlockActions.ExportDownload).WithAuditStreaming()
            .ProducesProblems(404, 409, 500).Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .WithSummary("A released file, decrypted from the outbox after its SHA-256 is verified again (header Spe-Content-Sha256).");
        return routes;
    }

    private static async Task<Results<Created<AirlockRequestView>, ProblemHttpResult, ValidationProblem>> CreateAsync(
        string projectId, ExportCreateRequest request, HttpContext context, PermitService permits, IProjectFiles files, FrozenFiles frozen,
        SpeDbContext database, DataDirectory data, IOptions<AirlockOptions> options, TimeProvider time, IAuditLog audit, ILoggerFactory loggers)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        if (AirlockInput.InvalidNames(request.Files, "files") is { } invalidNames)
        {
            return invalidNames;
        }

        IReadOnlyList<OutputDescription> descriptions = [];
        if (request.Description is { } description)
        {
            try
            {
                descriptions = OutputDescriptionParser.Parse(description.GetRawText());
            }
            catch (DescriptionException e)
            {
                return Problems.Invalid("description", e.Message);
            }
        }

        if (!files.Availability.IsAvailable)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "This server cannot reach workspace outputs: " + files.Availability.Reason + ".", ErrorCodes.AirlockUnavailable);
        }

        var document = await permits.CurrentDocumentAsync(access.Permit, context.RequestAborted);
        var allowed = document.Policies?.FileTypes?.Export ?? [];
        if (allowed.Count == 0)
        {
            AuditDenialReason.Set(context, "exports-closed");
            return Problems.Of(StatusCodes.Status403Forbidden, "The permit allows no file to leave this project (policies.fileTypes.export is empty).", ErrorCodes.AirlockDirectionClosed);
        }

        var airlock = document.Policies?.Airlock;
        var id = "exp-" + RandomNumberGenerator.GetHexString(20, lowercase: true);
        var now = time.GetUtcNow();
        var entity = new AirlockRequestEntity
        {
            Id = id,
            ProjectId = projectId,
            Direction = AirlockActions.Export,
            RequestedBy = context.User.FindFirst("sub")?.Value ?? "",
            RequestedByName = context.User.FindFirst("preferred_username")?.Value ?? "",
            Reason = request.Reason,
            DescriptionJson = request.Description?.GetRawText(),
            ReviewersRequired = airlock?.ReviewersRequired ?? 2,
            CreatedAt = now,
        };
        using var intake = OutputIntake.Create(data, id);
        var max = options.Value.MaxFileBytes;
        foreach (var name in request.Files)
        {
            try
            {
                await intake.TakeAsync(files, projectId, name, max, keep: true, context.RequestAborted);
            }
            catch (ProjectFileException e)
            {
                AuditDenialReason.Set(context, "output-refused");
                await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), "export.refused", new AuditResource("export", id, projectId),
                    AuditOutcome.Denied, StatusCodes.Status422UnprocessableEntity, TraceIds.Current(context),
                    new Dictionary<string, string> { ["file"] = name, ["reason"] = e.Error.ToString() }), CancellationToken.None);
                return Problems.Of(StatusCodes.Status422UnprocessableEntity, $"/outputs/{name} cannot be exported: {e.Message}", ErrorCodes.AirlockFileRefused);
            }
        }

        // Inputs the description names beside the files (a magnitude table's contributions, a figure's table) are read for the
        // checks only; they are not part of the request and never leave.
        foreach (var input in CheckInputs(descriptions).Except(request.Files, StringComparer.Ordinal))
        {
            try
            {
                await intake.TakeAsync(files, projectId, input, max, keep: false, context.RequestAborted);
            }
            catch (ProjectFileException)
            {
                // The checker then reports the input as missing, and the file needs a person's review.
            }
        }

        var report = intake.Check(AirlockPolicy.Of(airlock), [.. allowed], descriptions);
        var rows = new List<AirlockFileEntity>();
        for (var i = 0; i < intake.Files.Count; i++)
        {
            var (name, path, copy) = intake.Files[i];
            var key = FrozenFiles.KeyFor(projectId, id, i);
            await using (var plaintext = OutputIntake.Open(path))
            {
                await frozen.FreezeAsync(projectId, key, plaintext, CancellationToken.None);
            }

            var fileReport = report.Files[i];
            rows.Add(new AirlockFileEntity
            {
                RequestId = id,
                Name = name,
                Position = i,
                Size = copy.Size,
                Sha256 = copy.Sha256,
                ObjectKey = key,
                CheckStatus = fileReport.Status.ToName(),
                FindingsJson = AirlockViews.FindingsJson(fileReport),
            });
        }

        database.AirlockRequests.Add(entity);
        database.AirlockFiles.AddRange(rows);
        await database.SaveChangesAsync(CancellationToken.None);
        await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), "export.requested", new AuditResource("export", id, projectId),
            AuditOutcome.Success, StatusCodes.Status201Created, TraceIds.Current(context), AirlockViews.HashDetails(rows, report.Status.ToName())), CancellationToken.None);
        AirlockLog.Submitted(loggers.CreateLogger(typeof(ExportEndpoints)), AirlockActions.Export, id, rows.Count, report.Status.ToName());
        return TypedResults.Created($"/api/v1/projects/{projectId}/exports/{id}", AirlockViews.Of(entity, rows, []));
    }

    private static async Task<Results<Ok<OutputListView>, ProblemHttpResult>> ListOutputsAsync(string projectId, IProjectFiles files, CancellationToken cancellationToken)
    {
        if (!files.Availability.IsAvailable)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "This server cannot reach workspace outputs: " + files.Availability.Reason + ".", ErrorCodes.AirlockUnavailable);
        }

        var listing = await files.ListOutputsAsync(projectId, MaxListedOutputs, cancellationToken);
        return TypedResults.Ok(new OutputListView([.. listing.Files.Select(f => new OutputFileView(f.Name, f.Size, f.Modified))], listing.Truncated, MaxListedOutputs));
    }

    private static Task<Ok<List<AirlockRequestView>>> ListAsync(string projectId, SpeDbContext database, CancellationToken cancellationToken) =>
        AirlockViews.ListAsync(database, projectId, AirlockActions.Export, cancellationToken);

    private static Task<Results<Ok<AirlockRequestView>, ProblemHttpResult>> ShowAsync(string projectId, string requestId, SpeDbContext database, CancellationToken cancellationToken) =>
        AirlockViews.ShowAsync(database, projectId, AirlockActions.Export, requestId, cancellationToken);

    private static Task<Results<Ok<AirlockRequestView>, ProblemHttpResult, ValidationProblem>> ReviewAsync(string projectId, string requestId, AirlockReviewRequest review,
        HttpContext context, AirlockReviews reviews) =>
        reviews.DecideAsync(context, projectId, AirlockActions.Export, requestId, review);

    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> DownloadAsync(string projectId, string requestId, string name, HttpContext context,
        SpeDbContext database, FrozenFiles frozen, IAuditLog audit)
    {
        var file = await database.AirlockFiles.AsNoTracking()
            .Join(database.AirlockRequests.AsNoTracking().Where(r => r.Id == requestId && r.ProjectId == projectId && r.Direction == AirlockActions.Export),
                f => f.RequestId, r => r.Id, (f, r) => f)
            .FirstOrDefaultAsync(f => f.Name == name, context.RequestAborted);
        if (file is null)
        {
            return Problems.Of(StatusCodes.Status404NotFound, $"Export request {requestId} of this project has no file '{name}'.", ErrorCodes.NotFound);
        }

        // Note: only a file with its required approvals leaves; a pending or rejected one never, whoever asks (EHDSR-13).
        if (file.State != AirlockStates.Approved)
        {
            AuditDenialReason.Set(context, "not-released");
            return Problems.Of(StatusCodes.Status409Conflict, $"'{name}' is {file.State}: only approved files can be downloaded.", ErrorCodes.AirlockNotReleased);
        }

        // Note: the frozen copy is verified whole before the first byte is sent, so a copy changed at rest is refused with an
        // answer, not cut off midway; the bytes sent are hashed again, and a change between the passes breaks the download.
        var actual = await frozen.ReadAsync(projectId, file.ObjectKey, null, context.RequestAborted);
        var actor = AuditActors.From(context.User, context);
        if (!string.Equals(actual, file.Sha256, StringComparison.Ordinal))
        {
            AuditDenialReason.Set(context, "frozen-copy-changed");
            await audit.AppendAsync(new AuditEntry(actor, "export.integrity-failed", new AuditResource("export", requestId, projectId), AuditOutcome.Error,
                StatusCodes.Status500InternalServerError, TraceIds.Current(context),
                new Dictionary<string, string> { ["file"] = name, ["frozen"] = file.Sha256, ["actual"] = actual }), CancellationToken.None);
            return Problems.Of(StatusCodes.Status500InternalServerError, $"The outbox copy of '{name}' no longer has the SHA-256 it was approved with; it is not released.", ErrorCodes.AirlockIntegrity);
        }

        await audit.AppendAsync(new AuditEntry(actor, "export.downloaded", new AuditResource("export", requestId, projectId), AuditOutcome.Success,
            StatusCodes.Status200OK, TraceIds.Current(context), new Dictionary<string, string> { ["file"] = name, ["sha256"] = file.Sha256, ["size"] = file.Size.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
            CancellationToken.None);
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = file.Size;
        context.Response.Headers[AirlockProtocol.Sha256Header] = file.Sha256;
        context.Response.Headers.ContentDisposition = new System.Net.Mime.ContentDisposition { FileName = name }.ToString();
        var sent = await frozen.ReadAsync(projectId, file.ObjectKey, context.Response.Body, context.RequestAborted);
        if (!string.Equals(sent, file.Sha256, StringComparison.Ordinal))
        {
            context.Abort();
        }

        return TypedResults.Empty;
    }

    private static IEnumerable<string> CheckInputs(IReadOnlyList<OutputDescription> descriptions) =>
        descriptions.Select(d => d switch
        {
            MagnitudeDescription m => m.Contributions,
            FigureDescription f => f.BasedOn,
            _ => null,
        }).OfType<string>().Where(n => AirlockInput.IsPlainName(n)).Distinct(StringComparer.Ordinal);
}
