namespace OpenSpe.Core.Audit;

/// <summary>A forward-only run of stored rows in sequence order.</summary>
public interface IAuditRowCursor : IDisposable
{
    /// <summary>Moves to the next row; its views stay valid until the next call or disposal.</summary>
    bool Read(out AuditRowUtf8 row);
}

/// <summary>
/// Stored rows that can be read in independent sequence ranges, each on its own connection, so
/// that a verifier can check several ranges of one log at once.
/// </summary>
public interface IAuditRowSource
{
    /// <summary>Opens the rows with <paramref name="afterSequence"/> &lt; sequence ≤ <paramref name="throughSequence"/>, ascending.</summary>
    IAuditRowCursor Open(long afterSequence, long throughSequence);

    /// <summary>The stored hash of the record at <paramref name="sequence"/>, or null when there is none.</summary>
    byte[]? StoredHash(long sequence);
}

/// <summary>Rows already turned into <see cref="AuditRow"/> objects, seen as a cursor.</summary>
public sealed class AuditRowEnumerableCursor(IEnumerable<AuditRow> rows) : IAuditRowCursor
{
    private readonly IEnumerator<AuditRow> _rows = (rows ?? throw new ArgumentNullException(nameof(rows))).GetEnumerator();
    private readonly AuditRowEncoder _encoder = new();

    /// <inheritdoc/>
    public bool Read(out AuditRowUtf8 row)
    {
        if (!_rows.MoveNext())
        {
            row = default;
            return false;
        }

        row = _encoder.Encode(_rows.Current);
        return true;
    }

    /// <inheritdoc/>
    public void Dispose() => _rows.Dispose();
}
