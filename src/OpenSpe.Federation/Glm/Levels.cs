using System.Globalization;

namespace OpenSpe.Federation.Glm;

/// <summary>
/// The ordered levels of a factor. A cell's level is its text, or its number as R prints it when the cell is numeric
/// (R reads <c>"01"</c> and <c>1</c> of a numeric column as the same level <c>1</c>).
/// </summary>
internal sealed class Levels
{
    private readonly IReadOnlyList<string> _labels;
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    public Levels(IReadOnlyList<string> labels)
    {
        _labels = labels;
        for (var i = 0; i < labels.Count; i++)
        {
            _index.TryAdd(labels[i], i);
        }
    }

    public int Count => _labels.Count;

    public string this[int index] => _labels[index];

    /// <summary>The level of <paramref name="cell"/>, or -1 when it is not one of these.</summary>
    public int IndexOf(string cell) => _index.TryGetValue(Label(cell), out var i) ? i : -1;

    /// <summary>The level label of a cell.</summary>
    public static string Label(string cell) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? number.ToString(CultureInfo.InvariantCulture)
            : cell;

    /// <summary>Labels in R's order: numerically when they are all numbers, otherwise by ordinal text (R in the C locale).</summary>
    public static string[] Sort(IEnumerable<string> labels)
    {
        var all = labels.ToArray();
        var numbers = new double[all.Length];
        var numeric = true;
        for (var i = 0; i < all.Length && numeric; i++)
        {
            numeric = double.TryParse(all[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i]);
        }

        if (numeric)
        {
            Array.Sort(numbers, all);
        }
        else
        {
            Array.Sort(all, StringComparer.Ordinal);
        }

        return all;
    }
}
