using System.Globalization;
using OpenSpe.Federation.Data;

namespace OpenSpe.Federation.Glm;

/// <summary>
/// A node's model matrix as R's <c>model.matrix</c> builds it, over the complete cases of the variables the formula uses:
/// the intercept, numeric columns, factors with treatment contrasts (<c>factor(x)2</c>, the first level as reference) or
/// full indicators where R uses them, and interactions with the first variable varying fastest.
/// </summary>
internal sealed class DesignMatrix
{
    /// <summary>The most model matrix columns a node builds.</summary>
    internal const int MaxColumns = 1000;

    private DesignMatrix(IReadOnlyList<string> columns, double[] x, double[] y, int nValid, int nMissing, IReadOnlyList<FactorLevelCount> factorLevels)
    {
        ColumnNames = columns;
        X = x;
        Y = y;
        NValid = nValid;
        NMissing = nMissing;
        FactorLevelCounts = factorLevels;
    }

    /// <summary>
    /// The complete rows of each level of each factor of the model, the reference level (which has no column) included, so
    /// the traps can judge a level that no column shows.
    /// </summary>
    public IReadOnlyList<FactorLevelCount> FactorLevelCounts { get; }

    /// <summary>The coefficient names, exactly as R prints them.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>Number of parameters (columns).</summary>
    public int P => ColumnNames.Count;

    /// <summary>The matrix, row-major, <see cref="NValid"/> × <see cref="P"/>.</summary>
    public double[] X { get; }

    /// <summary>The response of each complete row.</summary>
    public double[] Y { get; }

    /// <summary>Rows with every variable of the model present.</summary>
    public int NValid { get; }

    /// <summary>Rows with at least one variable of the model missing.</summary>
    public int NMissing { get; }

    /// <summary>
    /// Builds the matrix of <paramref name="formula"/> over <paramref name="table"/>. <paramref name="levels"/> fixes a
    /// factor's levels (by column) so that every node codes it alike; a value outside them makes its row incomplete.
    /// </summary>
    /// <exception cref="InvalidDataException">A column is missing, a numeric column holds text, or the response is out of range.</exception>
    public static DesignMatrix Build(Formula formula, LocalTable table, GlmFamily family, IReadOnlyDictionary<string, IReadOnlyList<string>>? levels = null)
    {
        var variables = formula.Variables;
        var columnIndex = new int[variables.Count];
        for (var v = 0; v < variables.Count; v++)
        {
            columnIndex[v] = table.IndexOf(variables[v].Column);
            if (columnIndex[v] < 0)
            {
                throw new InvalidDataException($"The table has no column '{variables[v].Column}'.");
            }
        }

        var factorLevels = FactorLevels(formula, table, columnIndex, levels);
        var complete = new List<int>();
        var values = new List<double[]>();
        for (var r = 0; r < table.Rows.Count; r++)
        {
            if (Values(table.Rows[r], variables, columnIndex, factorLevels) is { } row)
            {
                complete.Add(r);
                values.Add(row);
            }
        }

        var coding = Coding(formula, factorLevels);
        var p = coding.Sum(c => c.Names.Length) + (formula.HasIntercept ? 1 : 0);

        var n = values.Count;
        var x = new double[n * p];
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            var row = values[i];
            y[i] = row[0];
            if (family.InvalidResponse(y[i]) is { } problem)
            {
                throw new InvalidDataException($"Column '{formula.Response.Column}': {problem}.");
            }

            var offset = i * p;
            if (formula.HasIntercept)
            {
                x[offset++] = 1;
            }

            foreach (var term in coding)
            {
                term.Fill(row, x.AsSpan(offset, term.Names.Length));
                offset += term.Names.Length;
            }
        }

        var names = new List<string>(p);
        if (formula.HasIntercept)
        {
            names.Add("(Intercept)");
        }

        names.AddRange(coding.SelectMany(c => c.Names));
        var counts = new List<FactorLevelCount>();
        foreach (var (v, factor) in factorLevels.OrderBy(f => f.Key))
        {
            var perLevel = new int[factor.Count];
            foreach (var row in values)
            {
                perLevel[(int)row[v]]++;
            }

            counts.AddRange(perLevel.Select((count, level) => new FactorLevelCount(variables[v].Label, factor[level], count)));
        }

        return new DesignMatrix(names, x, y, n, table.Rows.Count - n, counts);
    }

    /// <summary>
    /// A row's variable values (a factor's as its level index), or null when the row is not a complete case.
    /// </summary>
    private static double[]? Values(string?[] cells, IReadOnlyList<FormulaVariable> variables, int[] columnIndex, Dictionary<int, Levels> factorLevels)
    {
        var row = new double[variables.Count];
        for (var v = 0; v < variables.Count; v++)
        {
            var cell = cells[columnIndex[v]];
            if (cell is null)
            {
                return null;
            }

            if (factorLevels.TryGetValue(v, out var levels))
            {
                var level = levels.IndexOf(cell);
                if (level < 0)
                {
                    return null;
                }

                row[v] = level;
            }
            else if (TryNumber(cell, out var number))
            {
                row[v] = number;
            }
            else
            {
                throw new InvalidDataException($"Column '{variables[v].Column}' holds a value that is not a number; use factor({variables[v].Column}) for a categorical column.");
            }
        }

        return row;
    }

    private static Dictionary<int, Levels> FactorLevels(Formula formula, LocalTable table, int[] columnIndex, IReadOnlyDictionary<string, IReadOnlyList<string>>? given)
    {
        var result = new Dictionary<int, Levels>();
        for (var v = 0; v < formula.Variables.Count; v++)
        {
            var variable = formula.Variables[v];
            if (!variable.IsFactor)
            {
                continue;
            }

            if (given is not null && given.TryGetValue(variable.Column, out var fixedLevels))
            {
                result[v] = new Levels(fixedLevels);
                continue;
            }

            // Note: R drops unused levels with the incomplete rows (glm's model.frame), so the levels come from the
            // complete cases only; every other model column must be present for a row to count.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var cells in table.Rows)
            {
                if (columnIndex.All(c => cells[c] is not null) && IsUsable(cells, formula, columnIndex, v))
                {
                    seen.Add(Levels.Label(cells[columnIndex[v]]!));
                }
            }

            result[v] = new Levels(Levels.Sort(seen));
        }

        return result;
    }

    private static bool IsUsable(string?[] cells, Formula formula, int[] columnIndex, int factor)
    {
        for (var v = 0; v < formula.Variables.Count; v++)
        {
            if (v != factor && !formula.Variables[v].IsFactor && !TryNumber(cells[columnIndex[v]]!, out _))
            {
                return false;
            }
        }

        return true;
    }

    private static List<TermCoding> Coding(Formula formula, Dictionary<int, Levels> factorLevels)
    {
        var masks = formula.Terms.Select(t => t.Mask).ToHashSet();
        var result = new List<TermCoding>();
        var columns = formula.HasIntercept ? 1L : 0L;
        foreach (var term in formula.Terms)
        {
            var parts = new List<VariableCoding>();
            foreach (var v in term.Variables)
            {
                var variable = formula.Variables[v];
                if (!variable.IsFactor)
                {
                    parts.Add(new VariableCoding(v, [variable.Label], null));
                    continue;
                }

                // Note: R codes a factor with contrasts when the term without it is in the model (the empty term being the
                // intercept), and with an indicator per level otherwise; the same rule gives the same columns as glm().
                var margin = term.Mask & ~(1UL << v);
                var contrasts = margin == 0 ? formula.HasIntercept : masks.Contains(margin);
                var levels = factorLevels[v];
                var first = contrasts ? 1 : 0;
                var used = Enumerable.Range(first, levels.Count - first).ToArray();
                parts.Add(new VariableCoding(v, used.Select(l => variable.Label + levels[l]).ToArray(), used));
            }

            columns += parts.Aggregate(1L, (n, part) => n * part.Names.Count);
            if (columns > MaxColumns)
            {
                // Note: checked before any name or matrix is made, because factor interactions multiply their levels.
                throw new InvalidDataException($"The model has more than {MaxColumns} columns.");
            }

            result.Add(new TermCoding(parts));
        }

        return result;
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>How one variable of a term becomes columns: its value, or one indicator per listed level.</summary>
    private sealed record VariableCoding(int Variable, IReadOnlyList<string> Names, int[]? LevelIndexes);

    /// <summary>How one term becomes columns: the product of its variables' columns, the first varying fastest (as R).</summary>
    private sealed class TermCoding
    {
        private readonly IReadOnlyList<VariableCoding> _parts;

        public TermCoding(IReadOnlyList<VariableCoding> parts)
        {
            _parts = parts;
            IEnumerable<string> names = [string.Empty];
            var firstPart = true;
            foreach (var part in parts)
            {
                var previous = names.ToArray();
                var sep = firstPart ? string.Empty : ":";
                names = part.Names.SelectMany(n => previous.Select(p => p + sep + n));
                firstPart = false;
            }

            Names = names.ToArray();
        }

        public string[] Names { get; }

        public void Fill(double[] row, Span<double> target)
        {
            target[0] = 1;
            var width = 1;
            foreach (var part in _parts)
            {
                var value = row[part.Variable];
                if (part.LevelIndexes is null)
                {
                    for (var k = 0; k < width; k++)
                    {
                        target[k] *= value;
                    }

                    continue;
                }

                // Expand: block j (one level) is the previous columns times that level's indicator.
                var count = part.LevelIndexes.Length;
                for (var j = count - 1; j >= 0; j--)
                {
                    var indicator = part.LevelIndexes[j] == (int)value ? 1.0 : 0.0;
                    for (var k = 0; k < width; k++)
                    {
                        target[(j * width) + k] = target[k] * indicator;
                    }
                }

                width *= count;
            }
        }
    }
}

/// <summary>How many complete rows a node has at one level of a factor of the model.</summary>
/// <param name="Factor">The factor as the formula names it (<c>factor(x)</c>).</param>
/// <param name="Level">The level.</param>
/// <param name="Count">Complete rows at that level.</param>
internal sealed record FactorLevelCount(string Factor, string Level, int Count);
