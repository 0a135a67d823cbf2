using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.UnitTests.Hosting;

/// <summary>
/// The server is internal by default (issue #12): only what the <c>spe</c> executable uses to host the server and to
/// work on a data directory offline is public, and the portal's tag helpers (Razor finds public ones only); each such type
/// is named in <c>src/OpenSpe.Server/PublicSurface.cs</c>.
/// A type made public without that decision fails here.
/// </summary>
public sealed class PublicSurfaceTests
{
    private static readonly string[] Expected =
    [
        "OpenSpe.Server.Audit.AuditLogRegressionException",
        "OpenSpe.Server.Audit.AuditPurgeResult",
        "OpenSpe.Server.Audit.OfflineAuditLog",
        "OpenSpe.Server.Hosting.DevAccount",
        "OpenSpe.Server.Hosting.SpeConfigurationException",
        "OpenSpe.Server.Hosting.SpeHost",
        "OpenSpe.Server.Hosting.SpeStartInfo",
        "OpenSpe.Server.Operations.Backups.BackupException",
        "OpenSpe.Server.Operations.Backups.BackupReport",
        "OpenSpe.Server.Operations.Backups.OfflineBackup",
        "OpenSpe.Server.Portal.FieldErrorTagHelper",
        "OpenSpe.Server.Portal.FieldErrorsTagHelper",
        "OpenSpe.Server.Portal.FieldTagHelper",
    ];

    [Fact]
    public void Only_the_types_the_cli_uses_are_public()
    {
        var exported = typeof(SpeHost).Assembly.GetExportedTypes()
            .Where(t => t.Namespace?.Contains(".Migrations", StringComparison.Ordinal) != true)
            .Select(t => t.FullName!)
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(Expected, exported);
    }
}
