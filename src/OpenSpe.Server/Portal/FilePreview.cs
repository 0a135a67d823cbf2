namespace OpenSpe.Server.Portal;

/// <summary>A file's preview for an output checker: a table for CSV and TSV, an image, text otherwise, or why there is none.</summary>
/// <param name="Text">The text (as the API gave it: at most its first 64 KiB).</param>
/// <param name="Rows">The cells of a CSV or TSV file, the first row as its header.</param>
/// <param name="Missing">Why there is no preview.</param>
/// <param name="Truncated">True when the table stops before the file's end.</param>
/// <param name="ImageUrl">The portal's address of an image's bytes (the page's handler that relays the API's image preview).</param>
internal sealed record FilePreview(string? Text, IReadOnlyList<IReadOnlyList<string>>? Rows, string? Missing, bool Truncated, string? ImageUrl = null)
{
    private const int MaxRows = 200;

    /// <summary>No preview, and why.</summary>
    public static FilePreview None(string? why) => new(null, null, why ?? PortalText.Get("NoPreview"), false);

    /// <summary>An image shown from <paramref name="url"/>.</summary>
    public static FilePreview Image(string url) => new(null, null, null, false, url);

    /// <summary>The preview of <paramref name="text"/>, the start of file <paramref name="name"/>.</summary>
    public static FilePreview Of(string name, string text)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(text);
        var extension = Path.GetExtension(name).ToLowerInvariant();
        if (extension is not (".csv" or ".tsv"))
        {
            return new FilePreview(text, null, null, false);
        }

        var rows = Table(text, extension == ".tsv" ? '\t' : ',');
        return new FilePreview(text, rows.Take(MaxRows).ToList(), null, rows.Count > MaxRows || text.Length >= 60 * 1024);
    }

    // RFC 4180 fields: quoted fields may hold the separator, line breaks and doubled quotes.
    private static List<IReadOnlyList<string>> Table(string text, char separator)
    {
        var rows = new List<IReadOnlyList<string>>();
        var row = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == separator)
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\n')
            {
                row.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                rows.Add(row);
                row = [];
            }
            else
            {
                field.Append(c);
            }
        }

        if (field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString().TrimEnd('\r'));
            rows.Add(row);
        }

        return rows;
    }
}
