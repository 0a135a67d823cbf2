using System.Text;

namespace OpenSpe.Core.Audit;

/// <summary>
/// Turns an <see cref="AuditRow"/> into its <see cref="AuditRowUtf8"/> view, encoding every text
/// column into one reused buffer. Not thread-safe; a view is valid until the next <see cref="Encode"/>.
/// </summary>
public sealed class AuditRowEncoder
{
    private byte[] _buffer = new byte[1024];
    private int _used;

    /// <summary>Encodes <paramref name="row"/>.</summary>
    public AuditRowUtf8 Encode(AuditRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var needed = MaxBytes(row.ActorSubject) + MaxBytes(row.ActorUsername) + MaxBytes(row.ActorRoles) + MaxBytes(row.ActorClientId)
            + MaxBytes(row.SourceIp) + MaxBytes(row.UserAgent) + MaxBytes(row.Action) + MaxBytes(row.ResourceType) + MaxBytes(row.ResourceId)
            + MaxBytes(row.ProjectId) + MaxBytes(row.Outcome) + MaxBytes(row.TraceId) + MaxBytes(row.DetailsJson);
        if (_buffer.Length < needed)
        {
            _buffer = new byte[Math.Max(needed, _buffer.Length * 2)];
        }

        _used = 0;
        return new AuditRowUtf8
        {
            Sequence = row.Sequence,
            TimestampMicros = row.TimestampMicros,
            ActorSubject = Column(row.ActorSubject),
            ActorUsername = Column(row.ActorUsername),
            ActorRoles = Text(row.ActorRoles),
            ActorClientId = Column(row.ActorClientId),
            SourceIp = Column(row.SourceIp),
            UserAgent = Column(row.UserAgent),
            Action = Text(row.Action),
            ResourceType = Column(row.ResourceType),
            ResourceId = Column(row.ResourceId),
            ProjectId = Column(row.ProjectId),
            Outcome = Text(row.Outcome),
            HttpStatus = row.HttpStatus,
            TraceId = Column(row.TraceId),
            DetailsJson = Text(row.DetailsJson),
            Hash = row.Hash,
        };
    }

    private static int MaxBytes(string? value) => value is null ? 0 : Encoding.UTF8.GetMaxByteCount(value.Length);

    private Utf8Column Column(string? value) => value is null ? Utf8Column.Null : new Utf8Column(Text(value));

    private ReadOnlySpan<byte> Text(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return [];
        }

        var written = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_used));
        var span = new ReadOnlySpan<byte>(_buffer, _used, written);
        _used += written;
        return span;
    }
}
