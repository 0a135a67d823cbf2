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

    [GeneratedRegex("^/opt/openspe/[a-z0-9][a-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex ProgramTargetPattern();

    /// <summary>Checks a program mount: a plain directory of the host outside the workspace trees, seen under /opt/openspe.</summary>
    public static void CheckProgram(ProgramMount mount, WorkspaceOptions options)
    {
        // Note: the source must not lie under the workspace root or the plaintext root, so a program mount can never hand
        // one project's files or plaintext to another project's sandbox, whatever a caller passes.
        if (mount is null || !ProgramTargetPattern().IsMatch(mount.Target) || mount.Target.Contains("..", StringComparison.Ordinal)
            || !Path.IsPathFullyQualified(mount.Source) || Path.GetFullPath(mount.Source) != mount.Source || mount.Source.EndsWith('/')
            || !Directory.Exists(mount.Source) || new DirectoryInfo(mount.Source).LinkTarget is not null
            || IsUnder(mount.Source, options.Root) || IsUnder(mount.Source, options.PlaintextRoot))
        {
            throw new WorkspaceStartException("A program mount is not a plain directory of the SPE's installation seen under /opt/openspe.");
        }
    }

    private static bool IsUnder(string path, string root)
    {
        var full = Path.GetFullPath(root).TrimEnd('/') + "/";
        var own = path + "/";
        return own.StartsWith(full, StringComparison.Ordinal) || full.StartsWith(own, StringComparison.Ordinal);
    }

    public static void CheckProject(string projectId)
    {
        if (projectId is null || !ProjectPattern().IsMatch(projectId) || projectId.Contains("..", StringComparison.Ordinal))
        {
            throw new WorkspaceStartException("The project id is not usable as a workspace name.");
        }
    }

    /// <summary>Checks a dataset id before it names a directory of the staged plaintext.</summary>
    public static void CheckDataset(string dataset)
    {
        if (dataset is null || !ProjectPattern().IsMatch(dataset) || dataset.Contains("..", StringComparison.Ordinal))
        {
            throw new WorkspaceStartException("The dataset id is not usable as a directory name.");
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
