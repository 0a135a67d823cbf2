namespace OpenSpe.Core.Access;

/// <summary>What a project-scoped operation does, and who may do it.</summary>
/// <param name="Name">Action name, e.g. <c>project.datasets.list</c>.</param>
/// <param name="MemberRoles">Permit roles that may do it (<c>researcher</c>, <c>data-holder</c>, <c>application</c>).</param>
/// <param name="Oversight">
/// True when the oversight roles (<see cref="Identity.SpeRoles.Oversight"/>) may do it too: metadata only, never data (SDR-2).
/// Such actions are open to them whatever the permit's state, and during a halt.
/// </param>
public sealed record ProjectAction(string Name, IReadOnlyList<string> MemberRoles, bool Oversight = false);
