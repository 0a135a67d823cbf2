namespace OpenSpe.Contracts;

/// <summary>Liveness answer.</summary>
public sealed record HealthView(string Status);

/// <summary>Readiness answer.</summary>
public sealed record ReadinessView(string Status, string Database, string Audit, string Halts);

/// <summary>Server information.</summary>
public sealed record ServerInfoView(string Name, string Version, IReadOnlyList<string> ApiVersions, string? Username, IReadOnlyList<string> Roles);
