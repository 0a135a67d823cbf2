using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Airlock;

/// <summary>
/// What an output checker reads before deciding, decrypted from the frozen copy: the first 64 KiB of a text file of an export
/// or import request (CSV, TSV, text, Markdown, JSON), or a whole image (PNG, JPEG, GIF, WebP; see <see cref="PreviewImages"/>).
/// Only the independent reviewers the access chain admits for the direction's review action (<see cref="AirlockActions.ExportReview"/>,
/// <see cref="AirlockActions.ImportReview"/>); never the requester's way out (they download approved exports only, and an
/// approved import reaches the project's workspace, not a person). Audited as <c>export.previewed</c> or <c>import.previewed</c>.
/// </summary>
/// <remarks>
/// Note: one set of handlers for both directions, parameterised by <see cref="PreviewDirection"/>, because the two previews
/// are the same security decision (which bytes a checker may read, and proof that they are the frozen ones); two copies would
/// drift. Training (OPR-23) needs no filter here: these routes are project-scoped, so the access chain's training step judges
/// the checker as output checker, as for every other review action.
/// </remarks>
internal static class AirlockPreviewEndpoints
{
    /// <summary>The most of a file a preview shows.</summary>
    public const int MaxPreviewBytes = 64 * 1024;

    private static readonly string[] TextExtensions = [".csv", ".tsv", ".txt", ".md", ".json", ".log"];

    private static readonly PreviewDirection Exports = new(AirlockActions.Export, "exports", "Export", "outbox copy", AirlockActions.ExportReview);

    private static readonly PreviewDirection Imports = new(AirlockActions.Import, "imports", "Import", "frozen copy", AirlockActions.ImportReview);

    /// <summary>Maps the text and image previews of export requests and of import requests.</summary>
    public static IEndpointRouteBuilder MapAirlockPreviewEndpoints(this IEndpointRouteBuilder routes) => routes.MapPreviews(Exports).MapPreviews(Imports);

    private static IEndpointRouteBuilder MapPreviews(this IEndpointRouteBuilder routes, PreviewDirection d)
    {
        var files = $"/api/v1/projects/{{projectId}}/{d.Routes}/{{requestId}}/files/{{name}}";
        routes.MapGet(files + "/preview", (string projectId, string requestId, string name, HttpContext context, SpeDbContext database, FrozenFiles frozen, IAuditLog audit) =>
                PreviewAsync(d, projectId, requestId, name, context, database, frozen, audit))
            .WithName($"{d.Routes}.preview").WithTags("Airlock")
            // Note: the review action, not the read action: members and holders may read a request's metadata but never its
            // content before release or placement; only the independent checkers the chain admits for a decision see it.
            .WithMetadata(new AuditResourceAttribute(d.Name)).WithMetadata(d.Review).RequireAuthorization()
            .ProducesProjectProblems().ProducesProblems(404, 415).Produces<string>(StatusCodes.Status200OK, "text/plain")
            .WithSummary($"The first 64 KiB of a text file of an {d.Name} request, for its independent output checkers (not the requester).");
        // Note: a sibling route, not content negotiation on /preview, so each answers one kind of body that OpenAPI states
        // exactly, and a client asking for text can never be handed an image (or the reverse).
        routes.MapGet(files + "/image", (string projectId, string requestId, string name, HttpContext context, SpeDbContext database, FrozenFiles frozen, IAuditLog audit) =>
                ImageAsync(d, projectId, requestId, name, context, database, frozen, audit))
            .WithName($"{d.Routes}.preview-image").WithTags("Airlock")
            .WithMetadata(new AuditResourceAttribute(d.Name)).WithMetadata(d.Review).RequireAuthorization()
            .ProducesProjectProblems().ProducesProblems(404, 415, 422)
            .Produces(StatusCodes.Status200OK, contentType: PreviewImages.ContentTypes[0], additionalContentTypes: [.. PreviewImages.ContentTypes.Skip(1)])
            .WithSummary($"A whole PNG, JPEG, GIF or WebP image (at most 4 MiB, its first bytes matching its name) of an {d.Name} request, for its independent output checkers (not the requester).");
        return routes;
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> PreviewAsync(PreviewDirection d, string projectId, string requestId, string name,
        HttpContext context, SpeDbContext database, FrozenFiles frozen, IAuditLog audit)
    {
        var file = await FindAsync(database, d, projectId, requestId, name, context.RequestAborted);
        if (file is null)
        {
            return NoSuchFile(d, requestId, name);
        }

        if (!TextExtensions.Contains(Path.GetExtension(name).ToLowerInvariant()))
        {
            return NotText(name);
        }

        // Note: the whole file is decrypted and hashed, to prove it is the frozen copy the checker is deciding on, but only its start is kept.
        using var head = new HeadStream(MaxPreviewBytes);
        if (await VerifyAsync(context, d, frozen, audit, file, projectId, requestId, head) is { } changed)
        {
            return changed;
        }

        string text;
        try
        {
            var bytes = head.Bytes;
            text = new UTF8Encoding(false, true).GetString(bytes.Length == MaxPreviewBytes ? TrimToCharacter(bytes) : bytes);
        }
        catch (DecoderFallbackException)
        {
            return NotText(name);
        }

        if (text.Contains('\0', StringComparison.Ordinal))
        {
            return NotText(name);
        }

        await AuditAsync(context, d, audit, requestId, projectId, file, "text", head.Bytes.Length);
        return TypedResults.Text(text, "text/plain", Encoding.UTF8);
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> ImageAsync(PreviewDirection d, string projectId, string requestId, string name,
        HttpContext context, SpeDbContext database, FrozenFiles frozen, IAuditLog audit)
    {
        var file = await FindAsync(database, d, projectId, requestId, name, context.RequestAborted);
        if (file is null)
        {
            return NoSuchFile(d, requestId, name);
        }

        // Note: only the four raster formats a browser decodes without running anything; SVG is a document that can carry script.
        var claimed = PreviewImages.ClaimedBy(name);
        if (claimed is null)
        {
            return NotImage($"'{name}' is not a PNG, JPEG, GIF or WebP image: it has no image preview; read the automatic report.");
        }

        if (file.Size > PreviewImages.MaxBytes)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity,
                $"'{name}' is {file.Size.ToString(CultureInfo.InvariantCulture)} bytes, more than the {PreviewImages.MaxBytes / (1024 * 1024)} MiB an image preview shows: read the automatic report; checkers cannot download a file under review.",
                ErrorCodes.PortalPreviewTooLarge);
        }

        // Note: the limit is one byte more than the largest preview, so a frozen copy swapped for a larger one is kept no
        // further than that before its hash refuses it.
        using var whole = new HeadStream(PreviewImages.MaxBytes + 1);
        if (await VerifyAsync(context, d, frozen, audit, file, projectId, requestId, whole) is { } changed)
        {
            return changed;
        }

        // Note: the name's claim is not enough: the bytes must be that format, so a page or script renamed .png is never served as an image.
        var bytes = whole.Bytes;
        var actual = PreviewImages.Detect(bytes);
        if (!string.Equals(actual, claimed, StringComparison.Ordinal))
        {
            return NotImage($"'{name}' does not hold the {claimed} its name says ({(actual is null ? "not an image it can show" : actual)}): it has no image preview; read the automatic report.");
        }

        await AuditAsync(context, d, audit, requestId, projectId, file, "image", bytes.Length);
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = PreviewImages.ContentSecurityPolicy;
        headers.CacheControl = "no-store";
        var disposition = new ContentDispositionHeaderValue("inline");
        disposition.SetHttpFileName(name);
        headers.ContentDisposition = disposition.ToString();
        return TypedResults.File(bytes, claimed);
    }

    // Note: the request's direction is part of the query, so an export's id on an import route (or the reverse) is a file
    // that does not exist: a checker of one queue cannot reach the other's files through a route that admitted them for it.
    // Note: a name no request could carry (a path, '..', 256 characters or more) is answered as the missing file it is,
    // before the database is asked, so a crafted name reaches neither a query nor the object store.
    private static Task<AirlockFileEntity?> FindAsync(SpeDbContext database, PreviewDirection d, string projectId, string requestId, string name,
        CancellationToken cancellationToken) =>
        !AirlockInput.IsPlainName(name) ? Task.FromResult<AirlockFileEntity?>(null) : database.AirlockFiles.AsNoTracking()
            .Join(database.AirlockRequests.AsNoTracking().Where(r => r.Id == requestId && r.ProjectId == projectId && r.Direction == d.Name),
                f => f.RequestId, r => r.Id, (f, r) => f)
            .FirstOrDefaultAsync(f => f.Name == name, cancellationToken);

    /// <summary>
    /// Decrypts the frozen copy into <paramref name="sink"/>; a problem (recorded as <c>export.integrity-failed</c> or
    /// <c>import.integrity-failed</c>) when its SHA-256 is not the one it was submitted with.
    /// </summary>
    private static async Task<ProblemHttpResult?> VerifyAsync(HttpContext context, PreviewDirection d, FrozenFiles frozen, IAuditLog audit, AirlockFileEntity file,
        string projectId, string requestId, Stream sink)
    {
        var actual = await frozen.ReadAsync(projectId, file.ObjectKey, sink, context.RequestAborted);
        // Note: a copy changed at rest is not what the requester submitted nor what the checker would approve: no preview of it.
        if (string.Equals(actual, file.Sha256, StringComparison.Ordinal))
        {
            return null;
        }

        AuditDenialReason.Set(context, "frozen-copy-changed");
        await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), d.Name + ".integrity-failed", new AuditResource(d.Name, requestId, projectId),
            AuditOutcome.Error, StatusCodes.Status500InternalServerError, TraceIds.Current(context),
            new Dictionary<string, string> { ["file"] = file.Name, ["frozen"] = file.Sha256, ["actual"] = actual }), CancellationToken.None);
        return Problems.Of(StatusCodes.Status500InternalServerError, $"The {d.Copy} of '{file.Name}' no longer has the SHA-256 it was submitted with; it has no preview.",
            ErrorCodes.AirlockIntegrity);
    }

    private static async Task AuditAsync(HttpContext context, PreviewDirection d, IAuditLog audit, string requestId, string projectId, AirlockFileEntity file, string kind,
        int bytes) =>
        await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), d.Name + ".previewed", new AuditResource(d.Name, requestId, projectId),
            AuditOutcome.Success, StatusCodes.Status200OK, TraceIds.Current(context),
            new Dictionary<string, string> { ["file"] = file.Name, ["sha256"] = file.Sha256, ["kind"] = kind, ["bytes"] = bytes.ToString(CultureInfo.InvariantCulture) }),
            CancellationToken.None);

    private static ProblemHttpResult NoSuchFile(PreviewDirection d, string requestId, string name) =>
        Problems.Of(StatusCodes.Status404NotFound, $"{d.Title} request {requestId} of this project has no file '{name}'.", ErrorCodes.NotFound);

    private static ProblemHttpResult NotImage(string detail) =>
        Problems.Of(StatusCodes.Status415UnsupportedMediaType, detail, ErrorCodes.PortalPreviewNotImage);

    private static ProblemHttpResult NotText(string name) =>
        Problems.Of(StatusCodes.Status415UnsupportedMediaType, $"'{name}' is not a text file (CSV, TSV, text, Markdown or JSON in UTF-8): it has no preview; read the automatic report.",
            ErrorCodes.PortalPreviewNotText);

    // A cut in the middle of a UTF-8 sequence is not the file's fault: the preview ends before it.
    private static byte[] TrimToCharacter(byte[] bytes)
    {
        var end = bytes.Length;
        var back = 0;
        while (end > 0 && back < 4 && (bytes[end - 1] & 0xC0) == 0x80)
        {
            end--;
            back++;
        }

        if (end > 0 && bytes[end - 1] >= 0xC0)
        {
            var need = bytes[end - 1] >= 0xF0 ? 3 : bytes[end - 1] >= 0xE0 ? 2 : 1;
            return need == back ? bytes : bytes[..(end - 1)];
        }

        return bytes;
    }

    /// <summary>What differs between the directions: the request's direction, its routes' segment, its word in sentences, what
    /// its frozen copy is called, and the review action whose checkers may see it.</summary>
    private sealed record PreviewDirection(string Name, string Routes, string Title, string Copy, ProjectActionAttribute Review);

    /// <summary>A sink that keeps the first bytes written to it and drops the rest.</summary>
    private sealed class HeadStream(int limit) : Stream
    {
        private readonly MemoryStream _kept = new();

        public byte[] Bytes => _kept.ToArray();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var room = limit - (int)_kept.Length;
            if (room > 0)
            {
                _kept.Write(buffer[..Math.Min(room, buffer.Length)]);
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _kept.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
