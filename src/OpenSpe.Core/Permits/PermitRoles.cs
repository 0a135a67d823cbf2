using OpenSpe.Core.Identity;

namespace OpenSpe.Core.Permits;

/// <summary>The roles a member can have in a permit. The first two are also account roles; an application is not a person.</summary>
public static class PermitRoles
{
    /// <summary>A natural person named as data user.</summary>
    public const string Researcher = SpeRoles.Researcher;

    /// <summary>The holder of one or more of the permit's datasets.</summary>
    public const string DataHolder = SpeRoles.DataHolder;

    /// <summary>A data user's application the HDAB named in the permit (FCR-7): a principal of its own, never acting as a person.</summary>
    public const string Application = "application";
}
