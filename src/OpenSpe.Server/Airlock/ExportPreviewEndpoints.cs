using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Airlock;

/// <summary>
/// What an output checker reads before deciding: the first 64 KiB of a text file of an export request (CSV, TSV, text,
/// Markdown, JSON), decrypted from the outbox. Only the independent reviewers the access chain admits for
/// <see cref="AirlockActions.ExportReview"/>; never the requester's way out (they download approved files only). Audited.
/// </summary>
internal static class ExportPreviewEndpoints
{
    /// <summary>The most of a file a preview shows.</summary>
    public const int MaxPreviewBytes = 64 * 1024;

    private static readonly string[] TextExtensions = [".csv", ".tsv", ".txt", ".md", ".json", ".log"];

    public static IEndpointRouteBuilder MapExportPreviewEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/v1/projects/{projectId}/exports/{requestId}/files/{name}/preview", PreviewAsync).WithName("exports.preview").WithTags("Airlock")
            .WithMetadata(new AuditResourceAttribute("export")).WithMetadata(AirlockActions.ExportReview).RequireAuthorization()
            .ProducesProjectProblems().ProducesProblems(404, 415).Produces<string>(StatusCodes.Status200OK, "text/plain")
            .WithSummary("The first 64 KiB of a text file of an export request, for its independent output checkers (not the requester).");
        return routes;
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> PreviewAsync(string projectId, string requestId, string name, HttpContext context,
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

        if (!TextExtensions.Contains(Path.GetExtension(name).ToLowerInvariant()))
        {
            return NotText(name);
        }

        // Note: the whole file is decrypted and hashed (to prove it is the frozen copy), but only its start is kept.
        using var head = new HeadStream(MaxPreviewBytes);
        await frozen.ReadAsync(projectId, file.ObjectKey, head, context.RequestAborted);
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

        await audit.AppendAsync(new AuditEntry(AuditActors.From(context.User, context), "export.previewed", new AuditResource("export", requestId, projectId),
            AuditOutcome.Success, StatusCodes.Status200OK, TraceIds.Current(context),
            new Dictionary<string, string> { ["file"] = name, ["sha256"] = file.Sha256, ["bytes"] = head.Bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
            CancellationToken.None);
        return TypedResults.Text(text, "text/plain", Encoding.UTF8);
    }

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
