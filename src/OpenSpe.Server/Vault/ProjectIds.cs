using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace OpenSpe.Server.Vault;

/// <summary>
/// The shape of a project id as the vault accepts it: 1–64 characters of lower-case letters,
/// digits and hyphens, starting with a letter or digit. Ids become file names and object-key
/// prefixes, so nothing else gets through.
/// </summary>
internal static partial class ProjectIds
{
    /// <summary>The pattern every project id matches.</summary>
    public const string Pattern = "^[a-z0-9][a-z0-9-]{0,63}$";

    /// <summary>True when <paramref name="projectId"/> is a well-formed project id.</summary>
    public static bool IsValid([NotNullWhen(true)] string? projectId) => projectId is not null && Regex().IsMatch(projectId);

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="projectId"/> is well formed.</summary>
    public static void Validate([NotNull] string? projectId, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(projectId))] string? parameterName = null)
    {
        ArgumentNullException.ThrowIfNull(projectId, parameterName);
        if (!IsValid(projectId))
        {
            // Note: the value is not echoed because it may be hostile input bound for a log.
            throw new ArgumentException($"A project id is 1-64 characters of a-z, 0-9 and '-', starting with a letter or digit ({Pattern}).", parameterName);
        }
    }

    /// <summary>The object-key prefix under which a project's objects live: <c>projects/&lt;id&gt;/</c>.</summary>
    public static string ObjectPrefix(string projectId)
    {
        Validate(projectId);
        return "projects/" + projectId + "/";
    }

    // Note: no match timeout: the pattern cannot backtrack, and a wall-clock timeout can fire on a loaded machine when the
    // matching thread is descheduled, failing a valid request.
    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Regex();
}
