using System.Text;
using System.Text.Json;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>One crypto-shredded project: its id and when its key was destroyed. No secret, no name from the permit.</summary>
/// <param name="ProjectId">The project.</param>
/// <param name="ErasedAt">When its key was destroyed.</param>
internal sealed record ShredLedgerEntry(string ProjectId, DateTimeOffset ErasedAt);

/// <summary>
/// The shred ledger: an append-only JSON Lines file of crypto-shredded projects. A restore consults it and leaves out the
/// key and objects of every project it names, so a key destroyed after a backup was made does not come back from that
/// backup. The server writes it in the data directory (<see cref="FileName"/>) and, when <c>Backup:ShredLedgerPath</c> is
/// set, a second copy outside it (on the backup volume), which is the one a restore after the loss of the data directory
/// reads.
/// </summary>
internal static class ShredLedger
{
    /// <summary>The ledger's name in the data directory.</summary>
    public const string FileName = "shred-ledger.jsonl";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The entries of a ledger file; an absent file is an empty ledger.</summary>
    /// <exception cref="FormatException">A line is not a ledger entry.</exception>
    public static IReadOnlyList<ShredLedgerEntry> Read(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var entries = new List<ShredLedgerEntry>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }

            ShredLedgerEntry? entry;
            try
            {
                entry = JsonSerializer.Deserialize<ShredLedgerEntry>(line, Json);
            }
            catch (JsonException ex)
            {
                throw new FormatException($"shred ledger {path} line {number} is not a ledger entry", ex);
            }

            if (entry is null || !Vault.ProjectIds.IsValid(entry.ProjectId))
            {
                throw new FormatException($"shred ledger {path} line {number} does not name a project");
            }

            entries.Add(entry);
        }

        return entries;
    }

    /// <summary>Appends an entry and flushes it to disk before returning.</summary>
    public static void Append(string path, ShredLedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(entry, Json) + "\n");
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using var stream = new FileStream(path, options);
        stream.Write(line);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>The union of several ledgers, one entry per project (the earliest erasure time).</summary>
    public static IReadOnlyList<ShredLedgerEntry> Merge(IEnumerable<ShredLedgerEntry> entries) =>
        [.. entries.GroupBy(e => e.ProjectId, StringComparer.Ordinal)
            .Select(g => g.MinBy(e => e.ErasedAt)!)
            .OrderBy(e => e.ErasedAt).ThenBy(e => e.ProjectId, StringComparer.Ordinal)];
}
