using System.CommandLine;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>--levels COLUMN=A,B,C</c> (repeatable): a factor's levels fixed for every node, the request's <c>levels</c> member.
/// Note: offered because nodes derive a factor's levels from their own rows, so nodes holding different levels give
/// different model columns and the coordinator stops (SPE7053) with advice that must be something the user can do here.
/// </summary>
internal static class FactorLevelsOption
{
    /// <summary>The option, described for <c>spe federation glm</c>.</summary>
    public static Option<string[]> Create() => new("--levels")
    {
        Description = "Fix a factor's levels for every node: COLUMN=LEVEL,LEVEL,... (repeatable), the first level the reference; "
            + "needed when nodes hold different levels of factor(COLUMN). A row whose value is not listed is left out as incomplete.",
        HelpName = "column=a,b,c",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>
    /// The <c>levels</c> member from the option's values: null when none was given, or <paramref name="bad"/> set to the
    /// first value that is not <c>COLUMN=LEVEL,...</c> with distinct, non-empty levels, or a column given twice.
    /// </summary>
    public static Dictionary<string, string[]>? Parse(IEnumerable<string>? values, out string? bad)
    {
        bad = null;
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var item in values ?? [])
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            var column = equals > 0 ? item[..equals].Trim() : "";
            var levels = column.Length > 0 ? item[(equals + 1)..].Split(',', StringSplitOptions.TrimEntries) : [];
            if (levels.Length == 0 || levels.Any(l => l.Length == 0) || levels.Distinct(StringComparer.Ordinal).Count() != levels.Length
                || !result.TryAdd(column, levels))
            {
                bad = item;
                return null;
            }
        }

        return result.Count == 0 ? null : result;
    }
}
