using System.Text.RegularExpressions;

namespace OpenSpe.Core.Federation;

/// <summary>
/// The name of a federation node: what its certificate carries in the subject CN and the DNS SAN, what peers put on their
/// allow-lists and what a permit's <c>datasets[].node</c> names.
/// </summary>
public static partial class FederationNames
{
    /// <summary>
    /// True for a DNS-style name: lower-case letters, digits, dots and hyphens, 1 to 63 characters, starting and ending with a
    /// letter or digit.
    /// </summary>
    public static bool IsValid(string? name) => name is not null && NamePattern().IsMatch(name);

    [GeneratedRegex("^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
