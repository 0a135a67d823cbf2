using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Disclosure;
using OpenSpe.Disclosure.Files;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Operations.Backups;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Airlock;

/// <summary>
/// Import requests under <c>/api/v1/projects/{projectId}/imports</c> (SPER-3): a member or a data holder of the permit brings
/// code or reference data in through the same gate as exports — file type by extension and content against
/// <c>fileTypes.import</c>, frozen and encrypted at submission, an independent output checker's approval — and the file then
/// appears read-only at <c>/project/imports/&lt;request&gt;/&lt;name&gt;</c>.
/// </summary>
internal static class ImportEndpoints
{
    public static IEndpointRouteBuilder MapImportEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/projects/{projectId}/imports").WithTags("Airlock").WithMetadata(new AuditResourceAttribute("import")).ProducesProjectProblems()
            .RequireAuthorization();
        group.MapPost("", CreateAsync).WithName("imports.create").WithMetadata(AirlockActions.ImportRequest)
            // Note: no Accepts("multipart/form-data") metadata: routing would then answer other content types 415 before the
            // access chain runs, telling a stranger that the project exists; the handler checks the content type itself.
            .ProducesProblems(400, 403, 413, 415, 422, 503)
            .WithSummary("Asks to bring files in (multipart/form-data: a 'reason' field and one or more files): type-checked, frozen and encrypted now, placed read-only in /project/imports once an output checker approves.");
        group.MapGet("", ListAsync).WithName("imports.list").WithMetadata(AirlockActions.ImportRead)
            .WithSummary("The project's import requests, newest first.");
        group.MapGet("/{requestId}", ShowAsync).WithName("imports.show").WithMetadata(AirlockActions.ImportRead).ProducesProblems(404)
            .WithSummary("One import request: each file's hash, type check and state, and every decision.");
        group.MapPost("/{requestId}/reviews", ReviewAsync).WithName("imports.review").WithMetadata(AirlockActions.ImportReview).Validate<AirlockReviewRequest>()
            .ProducesProblems(403, 404, 409, 422)
            .WithSummary("An output checker's decision on one file or every pending file; an approved file is placed read-only in /project/imports/<request>/.");
        group.MapPost("/{requestId}/placement", PlaceAgainAsync).WithName("imports.place").WithMetadata(AirlockActions.ImportPlace).ProducesProblems(404, 409, 503)
            .WithSummary("Places again the approved files whose placement in /project/imports failed (each file's 'placement' says why), once the cause is gone: the same reviewed bytes, checked against the same SHA-256.");
        return routes;
    }

    private static async Task<Results<Created<AirlockRequestView>, ProblemHttpResult, ValidationProblem>> CreateAsync(
        string projectId, HttpContext context, PermitService permits, IProjectFiles files, FrozenFiles frozen, SpeDbContext database,
        IOptions<AirlockOptions> options, TimeProvider time, IAuditLog audit, ILoggerFactory loggers)
    {
        var access = (ProjectAccess)context.Items[typeof(ProjectAccess)]!;
        if (!context.Request.HasFormContentType)
        {
            return Problems.Of(StatusCodes.Status415UnsupportedMediaType, "Send the files as multipart/form-data with a 'reason' field.");
        }

        IFormCollection form;
        var limit = options.Value.MaxImportRequestBytes;
        try
        {
            form = await ImportForms.ReadAsync(context, limit);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problems.Of(StatusCodes.Status413PayloadTooLarge, $"The files together are larger than the {limit} bytes an import request may carry (Airlock:MaxImportRequestBytes): send fewer or smaller files, or several requests.");
        }
        catch (InvalidDataException e)
        {
            return Problems.Invalid("body", "The multipart body is not valid: " + e.Message);
        }

        var reason = form["reason"].ToString();
        if (reason.Length is 0 or > 2000)
        {
            return Problems.Invalid("reason", "Give a reason of 1 to 2000 characters.");
        }

        var uploads = form.Files;
        if (uploads.Count is 0 or > 50)
        {
            return Problems.Invalid("files", "Send 1 to 50 files.");
        }

        if (AirlockInput.InvalidNames([.. uploads.Select(f => f.FileName)], "files") is { } invalid)
        {
            return invalid;
        }

        if (!files.Availability.IsAvailable)
        {
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "This server cannot reach workspace files: " + files.Availability.Reason + ".", ErrorCodes.AirlockUnavailable);
        }

        var document = await permits.CurrentDocumentAsync(access.Permit, context.RequestAborted);
        var allowed = document.Policies?.FileTypes?.Import ?? [];
        if (allowed.Count == 0)
        {
            AuditDenialReason.Set(context, "imports-closed");
            return Problems.Of(StatusCodes.Status403Forbidden, "The permit allows no file into this project (policies.fileTypes.import is empty).", ErrorCodes.AirlockDirectionClosed);
        }

        var max = options.Value.MaxFileBytes;
        var reports = new List<FileReport>();
        foreach (var upload in uploads)
        {
            if (upload.Length > max)
            {
                return Problems.Of(StatusCodes.Status413PayloadTooLarge, $"'{upload.FileName}' is larger than the {max} bytes one file may have (Airlock:MaxFileBytes).");
            }

            // Note: by extension AND content (a .py is text, a .png a PNG); archives, executables and unknown binaries are
            // refused whatever their name, because nothing could check what they carry in. Text is judged on every byte,
            // read from the form's spool on disk a block at a time.
            ContentKind kind;
            await using (var content = upload.OpenReadStream())
            {
                kind = await ContentSniffer.DetectAsync(content, context.RequestAborted);
            }

            var report = new FileReport(upload.FileName, FileTypeRule.Check(upload.FileName, kind, [.. allowed]));
            if (report.Status == DisclosureStatus.Fail)
            {
                AuditDenialReason.Set(context, "import-file-type");
                return Problems.Of(StatusCodes.Status422UnprocessableEntity,
                    $"'{upload.FileName}' cannot come in: {string.Join(" ", report.Findings.Where(f => f.Severity == DisclosureStatus.Fail).Select(f => f.Reason))}",
                    ErrorCodes.AirlockImportTypeRefused);
            }

            reports.Add(report);
        }

        var id = "imp-" + RandomNumberGenerator.GetHexString(20, lowercase: true);
        var entity = new AirlockRequestEntity
        {
            Id = id,
            ProjectId = projectId,
            Direction = AirlockActions.Import,
            RequestedBy = context.User.FindFirst("sub")?.Value ?? "",
            RequestedByName = context.User.FindFirst("preferred_username")?.Value ?? "",
            Reason = reason,
            ReviewersRequired = options.Value.ImportReviewersRequired,
            CreatedAt = time.GetUtcNow(),
        };
        var rows = new List<AirlockFileEntity>();
        for (var i = 0; i < uploads.Count; i++)
        {
            var key = FrozenFiles.KeyFor(projectId, id, i);
            // Note: hashed in the pass that encrypts it, so the SHA-256 recorded and reviewed is that of the bytes frozen.
            long size;
            string sha256;
            await using (var plaintext = new HashingStream(uploads[i].OpenReadStream()))
            {
                await frozen.FreezeAsync(projectId, key, plaintext, CancellationToken.None);
                (size, sha256) = (plaintext.Count, plaintext.FinishHex());
            }

            rows.Add(new AirlockFileEntity
            {
                RequestId = id,
                Name = uploads[i].FileName,
                Position = i,
                Size = size,
                Sha256 = sha256,
                ObjectKey = key,
                CheckStatus = reports[i].Status.ToName(),
                FindingsJson = AirlockViews.FindingsJson(reports[i]),
            });
        }

        database.AirlockRequests.Add(entity);
        database.AirlockFiles.AddRange(rows);
        await database.SaveChangesAsync(CancellationToken.None);
        await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), "import.requested", new AuditResource("import", id, projectId),
            AuditOutcome.Success, StatusCodes.Status201Created, TraceIds.Current(context), AirlockViews.HashDetails(rows)), CancellationToken.None);
        AirlockLog.Submitted(loggers.CreateLogger(typeof(ImportEndpoints)), AirlockActions.Import, id, rows.Count, "file-type");
        return TypedResults.Created($"/api/v1/projects/{projectId}/imports/{id}", AirlockViews.Of(entity, rows, []));
    }

    private static Task<Ok<List<AirlockRequestView>>> ListAsync(string projectId, SpeDbContext database, CancellationToken cancellationToken) =>
        AirlockViews.ListAsync(database, projectId, AirlockActions.Import, cancellationToken);

    private static Task<Results<Ok<AirlockRequestView>, ProblemHttpResult>> ShowAsync(string projectId, string requestId, SpeDbContext database, CancellationToken cancellationToken) =>
        AirlockViews.ShowAsync(database, projectId, AirlockActions.Import, requestId, cancellationToken);

    private static Task<Results<Ok<AirlockRequestView>, ProblemHttpResult>> PlaceAgainAsync(string projectId, string requestId, HttpContext context, AirlockReviews reviews) =>
        reviews.PlaceAgainAsync(context, projectId, requestId);

    private static Task<Results<Ok<AirlockRequestView>, ProblemHttpResult, ValidationProblem>> ReviewAsync(string projectId, string requestId, AirlockReviewRequest review,
        HttpContext context, AirlockReviews reviews) =>
        reviews.DecideAsync(context, projectId, AirlockActions.Import, requestId, review);
}
