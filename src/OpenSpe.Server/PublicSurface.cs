using System.Diagnostics.CodeAnalysis;

// The server's whole public surface, in one place: what the `spe` executable (another assembly) uses to host the
// server and to work on a data directory offline, and the portal's tag helpers, which are public only because Razor
// finds public tag helpers alone (their only users are the portal's own pages). Everything else is internal (CA1515);
// adding a type here is a decision to let the CLI depend on it.
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "spe server hosts the SPE.", Scope = "type", Target = "~T:OpenSpe.Server.Hosting.SpeHost")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "spe server prints the start banner.", Scope = "type", Target = "~T:OpenSpe.Server.Hosting.SpeStartInfo")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "spe server prints the dev accounts.", Scope = "type", Target = "~T:OpenSpe.Server.Hosting.DevAccount")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "spe server reports a bad configuration.", Scope = "type", Target = "~T:OpenSpe.Server.Hosting.SpeConfigurationException")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "spe audit verify|export|public-key|purge work offline.", Scope = "type", Target = "~T:OpenSpe.Server.Audit.OfflineAuditLog")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "spe audit purge prints it.", Scope = "type", Target = "~T:OpenSpe.Server.Audit.AuditPurgeResult")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "spe audit reports a log that lost its last checkpoint.", Scope = "type", Target = "~T:OpenSpe.Server.Audit.AuditLogRegressionException")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "spe backup create|verify|restore.", Scope = "type", Target = "~T:OpenSpe.Server.Operations.Backups.OfflineBackup")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "spe backup prints it.", Scope = "type", Target = "~T:OpenSpe.Server.Operations.Backups.BackupReport")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "spe backup reports what failed.", Scope = "type", Target = "~T:OpenSpe.Server.Operations.Backups.BackupException")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "Razor finds only public tag helpers.", Scope = "type", Target = "~T:OpenSpe.Server.Portal.FieldErrorsTagHelper")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "Razor finds only public tag helpers.", Scope = "type", Target = "~T:OpenSpe.Server.Portal.FieldTagHelper")]
[assembly: SuppressMessage("Maintainability", "CA1515", Justification = "Razor finds only public tag helpers.", Scope = "type", Target = "~T:OpenSpe.Server.Portal.FieldErrorTagHelper")]
