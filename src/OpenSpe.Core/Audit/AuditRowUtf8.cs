namespace OpenSpe.Core.Audit;

/// <summary>A text column as UTF-8 bytes, or SQL NULL (which is not the same as empty).</summary>
public readonly ref struct Utf8Column
{
    /// <summary>A non-null value.</summary>
    public Utf8Column(ReadOnlySpan<byte> bytes)
    {
        Bytes = bytes;
        IsNull = false;
    }

    private Utf8Column(bool isNull)
    {
        Bytes = default;
        IsNull = isNull;
    }

    /// <summary>SQL NULL.</summary>
    public static Utf8Column Null => new(isNull: true);

    /// <summary>The UTF-8 bytes (empty when null).</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    /// <summary>True for SQL NULL.</summary>
    public bool IsNull { get; }
}

/// <summary>
/// An audit row as UTF-8 views over its storage: the shape the canonical form is written from,
/// so verification can hash what the database holds without first turning every column into a
/// string. The views are valid only until the source that produced them moves on.
/// </summary>
public ref struct AuditRowUtf8
{
    /// <summary>Position in the log.</summary>
    public long Sequence { get; set; }

    /// <summary>Microseconds since the Unix epoch, UTC.</summary>
    public long TimestampMicros { get; set; }

    /// <summary>Actor subject id.</summary>
    public Utf8Column ActorSubject { get; set; }

    /// <summary>Actor username.</summary>
    public Utf8Column ActorUsername { get; set; }

    /// <summary>Actor roles, space-separated.</summary>
    public ReadOnlySpan<byte> ActorRoles { get; set; }

    /// <summary>OAuth client id.</summary>
    public Utf8Column ActorClientId { get; set; }

    /// <summary>Source IP address.</summary>
    public Utf8Column SourceIp { get; set; }

    /// <summary>User agent.</summary>
    public Utf8Column UserAgent { get; set; }

    /// <summary>Action name.</summary>
    public ReadOnlySpan<byte> Action { get; set; }

    /// <summary>Resource type.</summary>
    public Utf8Column ResourceType { get; set; }

    /// <summary>Resource id.</summary>
    public Utf8Column ResourceId { get; set; }

    /// <summary>Project id.</summary>
    public Utf8Column ProjectId { get; set; }

    /// <summary>Outcome wire name.</summary>
    public ReadOnlySpan<byte> Outcome { get; set; }

    /// <summary>HTTP status.</summary>
    public int? HttpStatus { get; set; }

    /// <summary>W3C trace id.</summary>
    public Utf8Column TraceId { get; set; }

    /// <summary>Details as canonical JSON.</summary>
    public ReadOnlySpan<byte> DetailsJson { get; set; }

    /// <summary>The stored chain hash.</summary>
    public ReadOnlySpan<byte> Hash { get; set; }
}
