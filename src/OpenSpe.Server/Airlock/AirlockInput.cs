using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenSpe.Server.Api;

namespace OpenSpe.Server.Airlock;

/// <summary>File names an airlock request may carry: one plain name each (no directory, no leading dot), distinct.</summary>
internal static partial class AirlockInput
{
    /// <summary>True for a plain file name.</summary>
    public static bool IsPlainName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>A validation problem for the first name that is not plain, or for a repeated name; null when all are fine.</summary>
    public static ValidationProblem? InvalidNames(IReadOnlyList<string> names, string field)
    {
        ArgumentNullException.ThrowIfNull(names);
        for (var i = 0; i < names.Count; i++)
        {
            if (!IsPlainName(names[i]))
            {
                return Problems.Invalid($"{field}[{i}]", "A file name is 1-255 letters, digits, '_', '-', '.', '+', '=', ',' or spaces, not starting with '.', '-' or a space, with no '/'.");
            }
        }

        return names.Distinct(StringComparer.Ordinal).Count() == names.Count ? null : Problems.Invalid(field, "A file is named twice.");
    }

    // Note: the same closed set as the project files' path steps, so every name accepted here can be opened there.
    [GeneratedRegex("^[A-Za-z0-9_+=,][A-Za-z0-9_.+=, -]{0,254}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
