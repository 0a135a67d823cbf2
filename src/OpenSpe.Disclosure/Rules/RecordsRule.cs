using System.Globalization;
using OpenSpe.Disclosure.Descriptions;
using OpenSpe.Disclosure.Tables;

namespace OpenSpe.Disclosure.Rules;

/// <summary>
/// Record-level files: k-anonymity and distinct l-diversity over the described quasi-identifiers and sensitive columns.
/// Each violating equivalence class is reported by its rows' numbers (never its values) with the suppression that fixes it:
/// removing the class's rows. One pass over the text; a class key is looked up without allocating when the class exists.
/// </summary>
internal static class RecordsRule
{
    /// <summary>Violating classes reported one by one; beyond this a single finding counts the rest, so a report stays readable.</summary>
    internal const int MaxClassesReported = 1000;

    private const char KeySeparator = '\u001F';

    public static IReadOnlyList<Finding> Check(string text, char delimiter, RecordsDescription description, DisclosurePolicy policy)
    {
        var reader = new CsvReader(text, delimiter);
        if (!reader.ReadRow())
        {
            return [Findings.Review("description.columns", "the file is empty (a header row is required).")];
        }

        var header = Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetString(i).Trim()).ToList();
        var missing = description.QuasiIdentifiers.Concat(description.Sensitive).Where(c => !header.Contains(c, StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
        {
            return [Findings.Review("description.columns", "the description names columns the file's header does not have.", missing.Select(c => $"column {c}").ToList())];
        }

        var qi = description.QuasiIdentifiers.Select(c => header.IndexOf(c)).ToArray();
        var sensitive = description.Sensitive.Select(c => header.IndexOf(c)).ToArray();
        var classes = new Dictionary<string, EquivalenceClass>(StringComparer.Ordinal);
        var lookup = classes.GetAlternateLookup<ReadOnlySpan<char>>();
        var key = new char[256];
        var ragged = new List<string>();
        var row = 0;
        while (reader.ReadRow())
        {
            row++;
            if (reader.FieldCount != header.Count)
            {
                ragged.Add(Findings.Row(row));
                continue;
            }

            var length = 0;
            foreach (var c in qi)
            {
                var field = reader[c];
                if (length + field.Length + 1 > key.Length)
                {
                    Array.Resize(ref key, Math.Max(key.Length * 2, length + field.Length + 1));
                }

                field.CopyTo(key.AsSpan(length));
                length += field.Length;
                key[length++] = KeySeparator;
            }

            if (!lookup.TryGetValue(key.AsSpan(0, length), out var cls))
            {
                cls = new EquivalenceClass(sensitive.Length);
                lookup[key.AsSpan(0, length)] = cls;
            }

            cls.Rows.Add(row);
            for (var s = 0; s < sensitive.Length; s++)
            {
                cls.See(s, reader[sensitive[s]], policy.LDiversity);
            }
        }

        var findings = new List<Finding>();
        if (ragged.Count > 0)
        {
            findings.Add(Findings.Review("description.rows", $"{ragged.Count} row(s) have a different number of fields than the header.", ragged));
        }

        var reported = 0;
        var notReported = 0;
        long suppressed = 0;
        foreach (var cls in classes.Values.OrderBy(c => c.Rows[0]))
        {
            var small = cls.Rows.Count < policy.KAnonymity;
            var poor = Enumerable.Range(0, sensitive.Length).Where(s => cls.Distinct(s) < policy.LDiversity).Select(s => description.Sensitive[s]).ToList();
            if (!small && poor.Count == 0)
            {
                continue;
            }

            suppressed += cls.Rows.Count;
            if (reported >= MaxClassesReported)
            {
                notReported++;
                continue;
            }

            reported++;
            var positions = cls.Rows.Select(Findings.Row).ToList();
            var fix = $"suppressing these {cls.Rows.Count} row(s) fixes it";
            if (small)
            {
                findings.Add(Findings.Fail("records.k-anonymity",
                    $"an equivalence class of {cls.Rows.Count} row(s), fewer than k = {policy.KAnonymity}; {fix}.", positions));
            }

            if (poor.Count > 0)
            {
                findings.Add(Findings.Fail("records.l-diversity",
                    $"an equivalence class with fewer than l = {policy.LDiversity} distinct values of {string.Join(", ", poor)}; {fix}.", positions));
            }
        }

        if (notReported > 0)
        {
            findings.Add(Findings.Fail("records.more-classes", $"{notReported} more violating equivalence class(es) not listed one by one.", []));
        }

        if (suppressed > 0)
        {
            findings.Add(Findings.Fail("records.suppression",
                $"suppressing {suppressed} of {row} row(s) ({(100.0 * suppressed / Math.Max(row, 1)).ToString("0.##", CultureInfo.InvariantCulture)} %) makes the file k-anonymous and l-diverse.", []));
        }

        return findings;
    }

    /// <summary>The rows of one class and, per sensitive column, its first l distinct values (more are not needed).</summary>
    private sealed class EquivalenceClass(int sensitiveColumns)
    {
        private readonly List<string>[] _distinct = [.. Enumerable.Range(0, sensitiveColumns).Select(_ => new List<string>(2))];

        public List<int> Rows { get; } = [];

        public int Distinct(int column) => _distinct[column].Count;

        public void See(int column, ReadOnlySpan<char> value, int enough)
        {
            var seen = _distinct[column];
            if (seen.Count >= enough)
            {
                return;
            }

            foreach (var v in seen)
            {
                if (value.SequenceEqual(v))
                {
                    return;
                }
            }

            seen.Add(value.ToString());
        }
    }
}
