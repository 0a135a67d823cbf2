using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenSpe.Contracts;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Audit;

/// <summary>
/// The audit log of a data directory, used without a running server: what <c>spe audit verify|export|public-key|purge</c>
/// do offline, with the server's own audit code. The one audit type the CLI sees; everything behind it stays internal.
/// </summary>
public sealed class OfflineAuditLog : IDisposable
{
    /// <summary>The shortest retention <see cref="PurgeAsync"/> accepts, in days (EHDSR-8, OPR-17).</summary>
    public const int MinimumRetentionDays = AuditOptions.MinimumRetentionDays;

    private readonly AuditSigningKey key;
    private readonly AuditService service;

    private OfflineAuditLog(AuditSigningKey key, AuditService service)
    {
        this.key = key;
        this.service = service;
    }

    /// <summary>The checkpoint key's id.</summary>
    public string KeyId => key.KeyId;

    /// <summary>
    /// Opens the log of an existing data directory for reading, with the public key from the directory or from
    /// <paramref name="publicKeyPath"/> (a key kept apart from the server).
    /// </summary>
    /// <param name="dataDirectory">The server's data directory (or a copy of it).</param>
    /// <param name="database">A database connection string; null for the directory's own SQLite.</param>
    /// <param name="publicKeyPath">A PEM public key to verify against instead of the directory's.</param>
    public static OfflineAuditLog Open(string dataDirectory, string? database, string? publicKeyPath = null)
    {
        var directory = DataDirectory.OpenExisting(dataDirectory);
        var key = AuditKeyFile.LoadPublic(directory, publicKeyPath);
        try
        {
            return new OfflineAuditLog(key, Service(directory, database, key));
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The checkpoint-signing public key as PEM.</summary>
    public string ExportPublicKeyPem() => key.ExportPublicKeyPem();

    /// <summary>Checks every record and checkpoint, and that every <paramref name="witnessed"/> checkpoint is still in the log.</summary>
    public async Task<AuditVerificationView> VerifyAsync(IReadOnlyList<AuditWitnessedCheckpoint> witnessed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(witnessed);
        return (await service.VerifyAsync(witnessed, cancellationToken)).ToView(key.KeyId) with { WitnessedCheckpoints = witnessed.Count };
    }

    /// <summary>
    /// Writes the records in [<paramref name="since"/>, <paramref name="until"/>) as JSON Lines or CSV; <paramref name="actor"/>
    /// (username or subject), <paramref name="action"/> and <paramref name="project"/> narrow them as the API's export does.
    /// </summary>
    public Task ExportAsync(string? actor, string? action, string? project, DateTimeOffset? since, DateTimeOffset? until, bool csv, Stream output,
        CancellationToken cancellationToken)
    {
        var query = new AuditQuery(actor, action, project, Micros(since), Micros(until));
        return service.ExportAsync(query, csv ? AuditExportFormat.Csv : AuditExportFormat.Jsonl, output, cancellationToken);
    }

    /// <summary>
    /// Removes only records older than <paramref name="retentionDays"/> (at least <see cref="MinimumRetentionDays"/>),
    /// signs a purge anchor so that the rest still verifies, and records the purge in the log itself.
    /// </summary>
    /// <exception cref="AuditLogRegressionException">The log no longer holds the last signed checkpoint (nothing was removed).</exception>
    public static async Task<AuditPurgeResult> PurgeAsync(string dataDirectory, string? database, int retentionDays, string osUser, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retentionDays, MinimumRetentionDays);
        var directory = DataDirectory.OpenExisting(dataDirectory);
        using var key = AuditKeyFile.LoadOrCreate(directory);
        var options = Options.Create(new AuditOptions { RetentionDays = retentionDays });
        var store = new AuditStore(SpeDatabase.Resolve(new DatabaseOptions { ConnectionString = database }, directory.Path));
        var service = new AuditService(store, key, options, TimeProvider.System);
        var ledger = new AuditCheckpointLedger(directory, key, [], null, NullLogger.Instance);
        await using var writer = new AuditWriter(store, key, options, TimeProvider.System, NullLogger<AuditWriter>.Instance, ledger);
        // Started first: it refuses a log that no longer holds the last signed checkpoint, before anything is signed.
        await writer.StartAsync(cancellationToken);
        var result = await service.PurgeAsync(key, cancellationToken);
        await writer.AppendAsync(new AuditEntry(AuditActor.System, "audit.purged", new AuditResource("audit-log", null, null), AuditOutcome.Success, null, null,
            new Dictionary<string, string>
            {
                ["removed"] = result.Removed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["anchor"] = result.AnchorSequence?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none",
                ["retentionDays"] = retentionDays.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["via"] = "cli",
                ["osUser"] = osUser,
            }), cancellationToken);
        return result;
    }

    /// <inheritdoc />
    public void Dispose() => key.Dispose();

    private static AuditService Service(DataDirectory directory, string? database, AuditSigningKey key) =>
        new(new AuditStore(SpeDatabase.Resolve(new DatabaseOptions { ConnectionString = database }, directory.Path)), key,
            Options.Create(new AuditOptions()), TimeProvider.System);

    private static long? Micros(DateTimeOffset? time) => time is { } t ? AuditTime.ToMicros(t) : null;
}
