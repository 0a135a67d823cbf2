namespace OpenSpe.Server.Hosting;

/// <summary>
/// A module's start-up work: run once by <see cref="SpeHost.StartAsync"/> after the database is migrated and before the
/// server listens, in <see cref="Order"/> (see <see cref="ModuleStartOrder"/>). A failure stops the start.
/// </summary>
internal interface IModuleStart
{
    /// <summary>Where this work runs among the others; lower first.</summary>
    int Order { get; }

    /// <summary>Does the work.</summary>
    Task StartAsync(IServiceProvider services, CancellationToken cancellationToken);
}

/// <summary>The order of start-up work: the audit log first, because everything after it may write audit records.</summary>
internal static class ModuleStartOrder
{
    /// <summary>The audit writer opens the log (and refuses a log that lost its checkpoints).</summary>
    public const int AuditLog = 0;

    /// <summary>The host records the start and any configuration change.</summary>
    public const int ServerRecord = 10;

    /// <summary>Accounts, OAuth clients and dev accounts are seeded.</summary>
    public const int Accounts = 20;

    /// <summary>Halts and permit keys are loaded.</summary>
    public const int Permits = 30;

    /// <summary>The airlock removes the plaintext an interrupted check or placement left behind.</summary>
    public const int Airlock = 40;

    /// <summary>In dev mode, the demo permit and its dataset (after accounts, permits and keys are ready).</summary>
    public const int Demo = 100;
}
