using System.Text;

namespace OpenSpe.Core.Audit;

/// <summary>
/// A witness file: JSON Lines, one <see cref="AuditCheckpointDocument"/> per line, oldest first.
/// Lines are only ever appended, each one durably, and only when it follows the last one
/// (<see cref="AuditWitnessHistory.Decide"/>), so the file is the history of what the server signed.
/// </summary>
public static class AuditWitnessFile
{
    /// <summary>Every checkpoint in the file with its line number (1-based); an absent file holds none.</summary>
    /// <exception cref="FormatException">A line is not a checkpoint document (the message names the file and line).</exception>
    public static List<(int Line, AuditCheckpointDocument Checkpoint)> ReadAll(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var result = new List<(int, AuditCheckpointDocument)>();
        if (!File.Exists(path))
        {
            return result;
        }

        var number = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                var document = AuditCheckpointDocument.Parse(line);
                _ = document.ToCheckpoint();
                result.Add((number, document));
            }
            catch (FormatException ex)
            {
                throw new FormatException($"witness file {path} line {number}: {ex.Message}", ex);
            }
        }

        return result;
    }

    /// <summary>The longest last line <see cref="Last"/> reads; a checkpoint line is about 1 KiB.</summary>
    public const int MaxLineBytes = 64 * 1024;

    /// <summary>The newest checkpoint in the file (its last non-blank line), or null when it has none.</summary>
    /// <exception cref="FormatException">The last line is not a checkpoint document, or is longer than <see cref="MaxLineBytes"/>.</exception>
    /// <remarks>
    /// Note: read from the end, because the file grows by a line per checkpoint for as long as the server runs (gigabytes over
    /// a year on a busy server) and the newest line is read at every push and every view of the witnesses' state; the whole
    /// file is checked by <see cref="ReadAll"/>, which <c>spe audit verify --witness</c> uses.
    /// </remarks>
    public static AuditCheckpointDocument? Last(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            return null;
        }

        string? line;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            line = LastLine(stream, path);
        }

        if (line is null)
        {
            return null;
        }

        try
        {
            var document = AuditCheckpointDocument.Parse(line);
            _ = document.ToCheckpoint();
            return document;
        }
        catch (FormatException ex)
        {
            throw new FormatException($"witness file {path} last line: {ex.Message}", ex);
        }
    }

    private static string? LastLine(FileStream stream, string path)
    {
        var tail = new List<byte>();
        var position = stream.Length;
        var block = new byte[4096];
        while (position > 0)
        {
            var size = (int)Math.Min(block.Length, position);
            position -= size;
            stream.Position = position;
            stream.ReadExactly(block, 0, size);
            tail.InsertRange(0, block.AsSpan(0, size).ToArray());
            var end = tail.FindLastIndex(b => !IsBlank(b));
            if (end < 0)
            {
                // Note: only blank bytes so far; they are dropped so that the tail kept holds the line alone.
                tail.Clear();
                continue;
            }

            var start = tail.LastIndexOf((byte)'\n', end) + 1;
            if (start > 0 || position == 0)
            {
                return Encoding.UTF8.GetString([.. tail[start..(end + 1)]]);
            }

            if (tail.Count > MaxLineBytes)
            {
                throw new FormatException($"witness file {path} last line is longer than {MaxLineBytes} bytes: not a checkpoint");
            }
        }

        return null;
    }

    private static bool IsBlank(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    /// <summary>Appends one line and flushes it to disk before returning.</summary>
    public static void Append(string path, AuditCheckpointDocument checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var bytes = Encoding.UTF8.GetBytes(checkpoint.ToJsonLine() + "\n");
        using var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read });
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }
}

/// <summary>What a witness does with a new checkpoint, given the last one it holds.</summary>
public static class AuditWitnessHistory
{
    /// <summary>
    /// Null when <paramref name="next"/> may be appended after <paramref name="last"/>; otherwise the
    /// reason it must not be (older, disagreeing, from another key, or time going backwards).
    /// <paramref name="unchanged"/> is true when it repeats the last head (nothing to append).
    /// </summary>
    public static string? Decide(AuditCheckpointDocument? last, AuditCheckpointDocument next, out bool unchanged)
    {
        ArgumentNullException.ThrowIfNull(next);
        unchanged = false;
        if (last is null)
        {
            return null;
        }

        if (!string.Equals(last.KeyId, next.KeyId, StringComparison.Ordinal))
        {
            return $"the checkpoint is signed by key {next.KeyId}, but the witness holds checkpoints of key {last.KeyId}";
        }

        if (next.Sequence < last.Sequence)
        {
            return $"the checkpoint at sequence {next.Sequence} (hash {next.Hash}) is older than the one the witness holds at sequence {last.Sequence} (hash {last.Hash}): the log was truncated";
        }

        if (next.Sequence == last.Sequence)
        {
            if (!string.Equals(next.Hash, last.Hash, StringComparison.OrdinalIgnoreCase))
            {
                return $"the checkpoint at sequence {next.Sequence} has hash {next.Hash}, but the witness holds hash {last.Hash} for that sequence: the log was rewritten";
            }

            unchanged = true;
            return null;
        }

        if (next.Timestamp < last.Timestamp)
        {
            return $"the checkpoint at sequence {next.Sequence} was signed at {next.Timestamp:O}, before the one the witness holds at sequence {last.Sequence} ({last.Timestamp:O})";
        }

        return null;
    }
}
