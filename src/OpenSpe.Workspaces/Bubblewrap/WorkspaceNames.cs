using System.Runtime.Versioning;
using System.Text.RegularExpressions;

namespace OpenSpe.Workspaces.Bubblewrap;

/// <summary>Checks project ids and member names before they become host paths, passwd lines or mount points.</summary>
[SupportedOSPlatform("linux")]
internal static partial class WorkspaceNames
{
    // Note: names go into host paths and /etc/passwd, so only a closed set of characters passes (no '/', ':', newline,
    // no leading dot or dash): a crafted name must not reach another project's directory or forge a passwd line.
    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex ProjectPattern();

    [GeneratedRegex("^[a-z0-9_][a-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex MemberPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex SocketPattern();

    public static void CheckProject(string projectId)
    {
        if (projectId is null || !ProjectPattern().IsMatch(projectId) || projectId.Contains("..", StringComparison.Ordinal))
        {
            throw new WorkspaceStartException("The project id is not usable as a workspace name.");
        }
    }

    public static void CheckMember(string member)
    {
        if (member is null || !MemberPattern().IsMatch(member) || member.Contains("..", StringComparison.Ordinal))
        {
            throw new WorkspaceStartException("The member name is not usable as a workspace user name.");
        }
    }

    public static bool IsSocketName(string name) =>
        name is not null && SocketPattern().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);
}
