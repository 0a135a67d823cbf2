namespace OpenSpe.Core.Access;

/// <summary>What a project-scoped operation does, and who may do it.</summary>
/// <param name="Name">Action name, e.g. <c>project.datasets.list</c>.</param>
/// <param name="MemberRoles">Permit roles that may do it (<c>researcher</c>, <c>data-holder</c>, <c>application</c>).</param>
/// <param name="Oversight">
/// True when the oversight roles (<see cref="Identity.SpeRoles.Oversight"/>) may do it too: metadata only, never data (SDR-2).
/// Such actions are open to them whatever the permit's state, and during a halt.
/// </param>
/// <param name="Reviewers">
/// True when output checkers who are NOT named in the permit may do it (the airlock's independent review, EHDSR-13): the
/// reviewer of a project's outputs is never one of its members. Unlike oversight, reviewers are stopped by a halt and by a
/// permit that is not in force, so a frozen request cannot be reviewed.
/// </param>
public sealed record ProjectAction(string Name, IReadOnlyList<string> MemberRoles, bool Oversight = false, bool Reviewers = false);
