using OpenSpe.Core.Identity;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Airlock;

/// <summary>
/// The project actions of the airlock. The permit's researchers ask for exports and download released files; output checkers
/// who are named in no role of the permit review (never a member, never the requester: EHDSR-13); data holders may bring
/// files in (SPER-3). No oversight role reads a request's files (SDR-2); the HDAB sees every export's metadata and decisions
/// through <c>GET /api/v1/exports</c>.
/// </summary>
internal static class AirlockActions
{
    /// <summary>Ask for an export.</summary>
    public static readonly ProjectActionAttribute ExportRequest = new("project.exports.request", SpeRoles.Researcher);

    /// <summary>
    /// List the files of <c>/outputs</c> to pick for an export: exactly who may ask for one (the project's researchers), a
    /// separate name so the audit trail tells a look from a request.
    /// </summary>
    public static readonly ProjectActionAttribute OutputList = new("project.outputs.read", SpeRoles.Researcher);

    /// <summary>List and show export requests (members, and the independent checkers who review them).</summary>
    public static readonly ProjectActionAttribute ExportRead = new("project.exports.read", SpeRoles.Researcher) { Reviewers = true };

    /// <summary>Decide on an export (independent output checkers only).</summary>
    public static readonly ProjectActionAttribute ExportReview = new("project.exports.review") { Reviewers = true };

    /// <summary>Download a released file (the project's researchers only).</summary>
    public static readonly ProjectActionAttribute ExportDownload = new("project.exports.download", SpeRoles.Researcher);

    /// <summary>Ask for an import.</summary>
    public static readonly ProjectActionAttribute ImportRequest = new("project.imports.request", SpeRoles.Researcher, SpeRoles.DataHolder);

    /// <summary>Place again an approved import file whose placement failed (the roles that may ask for imports).</summary>
    public static readonly ProjectActionAttribute ImportPlace = new("project.imports.place", SpeRoles.Researcher, SpeRoles.DataHolder);

    /// <summary>List and show import requests.</summary>
    public static readonly ProjectActionAttribute ImportRead = new("project.imports.read", SpeRoles.Researcher, SpeRoles.DataHolder) { Reviewers = true };

    /// <summary>Decide on an import (independent output checkers only).</summary>
    public static readonly ProjectActionAttribute ImportReview = new("project.imports.review") { Reviewers = true };

    /// <summary>The directions.</summary>
    public const string Export = "export";

    /// <summary>The directions.</summary>
    public const string Import = "import";
}
