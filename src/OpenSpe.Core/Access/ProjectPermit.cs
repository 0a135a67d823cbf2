namespace OpenSpe.Core.Access;

/// <summary>A project's permit as the access chain and the project views read it: its identity, state and current version.</summary>
/// <param name="Id">Permit id.</param>
/// <param name="ProjectId">Project id.</param>
/// <param name="Reference">The HDAB's reference.</param>
/// <param name="Title">Title of the current version.</param>
/// <param name="State">State (<see cref="Permits.PermitStates"/>).</param>
/// <param name="Version">Current version number.</param>
/// <param name="ValidFrom">Validity start of the current version.</param>
/// <param name="ValidUntil">Validity end of the current version (exclusive).</param>
public sealed record ProjectPermit(string Id, string ProjectId, string Reference, string Title, string State, int Version, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil);
