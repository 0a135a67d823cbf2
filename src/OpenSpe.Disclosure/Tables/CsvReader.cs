namespace OpenSpe.Disclosure.Tables;

/// <summary>A CSV (RFC 4180) that does not parse: an unterminated quote or text after a closing quote.</summary>
public sealed class CsvFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CsvFormatException()
    {
    }

    /// <summary>Creates the exception with a message that names the line.</summary>
    public CsvFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public CsvFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A forward-only RFC 4180 reader over text already in memory. Fields are slices of the text (a quoted field with doubled
/// quotes is unescaped into a string), so a million-row file is read without a string per field.
/// </summary>
internal sealed class CsvReader
{
    private readonly string _text;
    private readonly char _delimiter;
    private readonly List<(int Start, int Length, string? Unescaped)> _fields = [];
    private int _position;
    private int _line = 1;

    public CsvReader(string text, char delimiter = ',')
    {
        _text = text;
        _delimiter = delimiter;

        // A byte-order mark is not part of the first column's name.
        _position = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
    }

    /// <summary>Rows read so far, the header included.</summary>
    public int RowsRead { get; private set; }

    /// <summary>The number of fields in the current row.</summary>
    public int FieldCount => _fields.Count;

    /// <summary>A field of the current row.</summary>
    public ReadOnlySpan<char> this[int index]
    {
        get
        {
            var (start, length, unescaped) = _fields[index];
            return unescaped is null ? _text.AsSpan(start, length) : unescaped.AsSpan();
        }
    }

    /// <summary>A field of the current row as a string.</summary>
    public string GetString(int index) => this[index].ToString();

    /// <summary>Reads the next row; false at the end of the text. Empty lines are skipped.</summary>
    public bool ReadRow()
    {
        _fields.Clear();
        var text = _text.AsSpan();
        while (_position < text.Length && (text[_position] == '\n' || text[_position] == '\r'))
        {
            if (text[_position] == '\n')
            {
                _line++;
            }

            _position++;
        }

        if (_position >= text.Length)
        {
            return false;
        }

        while (true)
        {
            if (_position < text.Length && text[_position] == '"')
            {
                ReadQuoted(text);
            }
            else
            {
                var rest = text[_position..];
                var end = rest.IndexOfAny(_delimiter, '\n', '\r');
                var length = end < 0 ? rest.Length : end;
                _fields.Add((_position, length, null));
                _position += length;
            }

            if (_position < text.Length && text[_position] == _delimiter)
            {
                _position++;
                continue;
            }

            break;
        }

        RowsRead++;
        return true;
    }

    private void ReadQuoted(ReadOnlySpan<char> text)
    {
        var start = _position + 1;
        var i = start;
        System.Text.StringBuilder? unescaped = null;
        while (true)
        {
            var next = text[i..].IndexOf('"');
            if (next < 0)
            {
                throw new CsvFormatException($"line {_line}: a quoted field is not closed.");
            }

            var quote = i + next;
            _line += text[i..quote].Count('\n');
            if (quote + 1 < text.Length && text[quote + 1] == '"')
            {
                unescaped ??= new System.Text.StringBuilder();
                unescaped.Append(text[i..(quote + 1)]);
                i = quote + 2;
                continue;
            }

            if (unescaped is null)
            {
                _fields.Add((start, quote - start, null));
            }
            else
            {
                unescaped.Append(text[i..quote]);
                _fields.Add((0, 0, unescaped.ToString()));
            }

            _position = quote + 1;
            if (_position < text.Length && text[_position] != _delimiter && text[_position] != '\n' && text[_position] != '\r')
            {
                throw new CsvFormatException($"line {_line}: text after a closing quote.");
            }

            return;
        }
    }
}
