using System.Net.Security;
using Microsoft.Extensions.Configuration;
using OpenSpe.Core.Audit;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>What a verification (a restore drill) found.</summary>
/// <param name="Restore">The restore into the scratch directory.</param>
/// <param name="Audit">The audit chain's verification (against the witnesses given).</param>
/// <param name="ReadyStatus">The HTTP status <c>/readyz</c> answered on the restored server (200 when it is ready).</param>
internal sealed record BackupDrillResult(BackupRestore Restore, AuditVerificationView Audit, int ReadyStatus)
{
    /// <summary>True when every hash matched, the audit chain verified and the restored server was ready.</summary>
    public bool Passed => Audit.Valid && ReadyStatus == 200;
}

/// <summary>
/// <c>spe backup verify</c>: a restore drill (OPR-27) into a scratch directory: every piece against its SHA-256 sums, the
/// audit chain (against witness files when given), and a real server started in-process on a loopback port that must
/// answer <c>/readyz</c>. The scratch directory is removed afterwards, whatever the outcome.
/// </summary>
internal static class BackupDrill
{
    private static readonly TimeSpan ReadyWait = TimeSpan.FromSeconds(30);

    public static async Task<BackupDrillResult> RunAsync(string backup, Crypt4ghPrivateKey key, IReadOnlyList<AuditWitnessedCheckpoint> witnesses, string? auditPublicKeyPem,
        string? postgres, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(witnesses);
        var scratch = Path.Combine(Path.GetTempPath(), "openspe-backup-drill-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6)));
        Directory.CreateDirectory(scratch, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var data = Path.Combine(scratch, "data");
            var restore = await BackupReader.RestoreAsync(backup, key, data, postgres, [], auditPublicKeyPem, cancellationToken).ConfigureAwait(false);
            var database = restore.Manifest.Database == "postgresql" ? postgres! : $"Data Source={Path.Combine(data, "spe.db")}";
            AuditVerificationView audit;
            using (var log = OfflineAuditLog.Open(data, database))
            {
                audit = await log.VerifyAsync(witnesses, cancellationToken).ConfigureAwait(false);
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            var ready = audit.Valid ? await StartAndProbeAsync(data, database, cancellationToken).ConfigureAwait(false) : 0;
            return new BackupDrillResult(restore, audit, ready);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// The only parts of the restored configuration the drill's server takes over: how the project keys are kept, because the
    /// drill must open them as the server does (the local keyring reads <c>master.key</c> of the scratch copy or
    /// <c>SPE_MASTER_KEY</c>; a PKCS#11 token is read, and only a token without any master key would get a new one).
    /// Everything else is the drill's own (<see cref="DrillSettings"/>) or the built-in default.
    /// </summary>
    internal static readonly string[] AllowedSections = [Vault.KeyManagementOptions.Section];

    /// <summary>
    /// The configuration the drill's server runs with: the allow-list of <paramref name="restored"/> and the drill's own
    /// settings, every one of them inside <paramref name="data"/> or the loopback interface.
    /// </summary>
    internal static IConfiguration DrillConfiguration(string data, string database, IConfiguration? restored)
    {
        // Note: an allow-list, not a deny-list, because the drill's server runs on a copy of production with production's
        // keys: every setting that reaches outside the scratch directory (witness files and endpoints, the alert webhook and
        // e-mail, the backup schedule and shred ledger, an object store root, federation, external identity providers,
        // metrics networks, workspace roots, a TLS key path) would act on production with production's identity, as the
        // shutdown checkpoint appended to production's witness file did. A setting not named here is left at its default,
        // and every default is off or inside the data directory.
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (restored is not null)
        {
            foreach (var section in AllowedSections)
            {
                foreach (var (key, value) in restored.GetSection(section).AsEnumerable())
                {
                    if (value is not null)
                    {
                        settings[key] = value;
                    }
                }
            }
        }

        foreach (var (key, value) in DrillSettings(data, database))
        {
            settings[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

    private static Dictionary<string, string?> DrillSettings(string data, string database) => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Server:DataDirectory"] = data,
        ["Server:Urls"] = $"https://127.0.0.1:{FreePort()}",
        // Note: always dev TLS, on the self-signed certificate of the restored directory (or a new one there): production's
        // certificate and key are paths outside the scratch directory, and the drill is reached only by itself.
        ["Server:Dev"] = "true",
        ["Server:DevDemo"] = "false",
        ["Database:ConnectionString"] = database,
        ["Vault:ObjectStore:Root"] = Path.Combine(data, "objects"),
        // Note: the drill proves the server starts on its data; it runs no workloads, so no sandbox runtime is needed (the
        // workspace folders keep dev mode's defaults, named after the scratch directory, not production's).
        ["Workspaces:Runtime"] = "none",
        ["Metrics:Enabled"] = "false",
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
    };

    /// <summary>Starts the SPE on the restored directory, on a free loopback port, and asks <c>/readyz</c>.</summary>
    private static async Task<int> StartAndProbeAsync(string data, string database, CancellationToken cancellationToken)
    {
        var restoredConfiguration = Path.Combine(data, BackupLayout.RestoredConfigurationName);
        var restored = File.Exists(restoredConfiguration) ? new ConfigurationBuilder().AddJsonFile(restoredConfiguration, optional: false, reloadOnChange: false).Build() : null;
        var configuration = DrillConfiguration(data, database, restored);
        await using var app = SpeHost.Build(configuration);
        var info = await SpeHost.StartAsync(app, cancellationToken).ConfigureAwait(false);
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // Pinned to the certificate the restored server reported, not to any CA.
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null
                    && string.Equals(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(certificate.GetRawCertData())), info.CertificateFingerprint, StringComparison.OrdinalIgnoreCase),
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(info.Urls[0]) };
        // Note: readiness includes the first read of the halts, which a loaded machine may finish a moment after the start;
        // one early 503 is not a failed drill, a server still not ready after ReadyWait is.
        var deadline = DateTime.UtcNow + ReadyWait;
        int status;
        while (true)
        {
            using (var response = await client.GetAsync(new Uri("/readyz", UriKind.Relative), cancellationToken).ConfigureAwait(false))
            {
                status = (int)response.StatusCode;
            }

            if (status == 200 || DateTime.UtcNow >= deadline)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }

        await app.StopAsync(cancellationToken).ConfigureAwait(false);
        return status;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
