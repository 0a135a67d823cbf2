namespace OpenSpe.Core.Identity;

/// <summary>
/// The separation-of-duties table (SDR-2, OPR-2; docs/separation-of-duties.md): which account roles
/// one person may never hold together, and which grants need a second admin. Checked on every
/// account creation, role grant and grant approval; the project gate also refuses an account
/// whose roles conflict (accounts from before this table existed).
/// </summary>
public static class SeparationOfDuties
{
    /// <summary>Roles that touch projects or their data.</summary>
    public static IReadOnlySet<string> ProjectRoles { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        SpeRoles.Hdab, SpeRoles.Researcher, SpeRoles.DataHolder, SpeRoles.OutputChecker,
    };

    /// <summary>Roles whose grant waits for a second admin's approval (four eyes): every role but the two that only work inside a permit.</summary>
    public static IReadOnlySet<string> NeedsApproval { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        SpeRoles.Admin, SpeRoles.Operator, SpeRoles.Hdab, SpeRoles.Auditor, SpeRoles.OutputChecker,
    };

    /// <summary>Every pair of roles one account may not hold together, each with the reason.</summary>
    public static IReadOnlyList<RoleConflict> Conflicts { get; } = BuildConflicts();

    /// <summary>The conflict between <paramref name="a"/> and <paramref name="b"/>, or null when one person may hold both.</summary>
    public static RoleConflict? Between(string a, string b) =>
        Conflicts.FirstOrDefault(c => (c.First == a && c.Second == b) || (c.First == b && c.Second == a));

    /// <summary>The first conflict among <paramref name="roles"/>, or null when they may be held together.</summary>
    public static RoleConflict? Within(IEnumerable<string> roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var list = roles.Distinct(StringComparer.Ordinal).ToList();
        for (var i = 0; i < list.Count; i++)
        {
            for (var j = i + 1; j < list.Count; j++)
            {
                if (Between(list[i], list[j]) is { } conflict)
                {
                    return conflict;
                }
            }
        }

        return null;
    }

    private static List<RoleConflict> BuildConflicts()
    {
        var conflicts = new List<RoleConflict>();
        foreach (var service in new[] { SpeRoles.Admin, SpeRoles.Operator })
        {
            foreach (var project in new[] { SpeRoles.Hdab, SpeRoles.Researcher, SpeRoles.DataHolder, SpeRoles.OutputChecker })
            {
                conflicts.Add(new(service, project, $"{service} runs the service and never touches projects or their data (SDR-2)"));
            }
        }

        foreach (var other in SpeRoles.All.Where(r => r != SpeRoles.Auditor))
        {
            conflicts.Add(new(SpeRoles.Auditor, other, "an auditor checks everyone else and holds no other role"));
        }

        conflicts.Add(new(SpeRoles.Hdab, SpeRoles.Researcher, "an HDAB officer issues permits and is never a data user"));
        conflicts.Add(new(SpeRoles.Hdab, SpeRoles.DataHolder, "an HDAB officer issues permits and is never a data holder"));
        return conflicts;
    }
}

/// <summary>Two roles one person may not hold together.</summary>
/// <param name="First">One role.</param>
/// <param name="Second">The other role.</param>
/// <param name="Reason">Why, for the refusal message and the docs.</param>
public sealed record RoleConflict(string First, string Second, string Reason)
{
    /// <summary>The refusal sentence.</summary>
    public string Describe() => $"'{First}' and '{Second}' cannot be held by one person: {Reason}.";
}
