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

    /// <summary>Starts the SPE on the restored directory, on a free loopback port, and asks <c>/readyz</c>.</summary>
    private static async Task<int> StartAndProbeAsync(string data, string database, CancellationToken cancellationToken)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = data,
            ["Server:Urls"] = $"https://127.0.0.1:{FreePort()}",
            ["Database:ConnectionString"] = database,
            // Note: the drill proves the server starts on its data; it runs no workloads, so no sandbox runtime is needed.
            ["Workspaces:Runtime"] = "none",
            ["Server:DevDemo"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore.DataProtection"] = "Error",
        };
        var builder = new ConfigurationBuilder();
        var restoredConfiguration = Path.Combine(data, BackupLayout.RestoredConfigurationName);
        if (File.Exists(restoredConfiguration))
        {
            builder.AddJsonFile(restoredConfiguration, optional: false, reloadOnChange: false);
        }

        var partial = builder.Build();
        if (string.IsNullOrEmpty(partial["Tls:CertificatePath"]))
        {
            // Note: without a configured certificate the drill runs in dev mode, on the self-signed certificate of the
            // restored directory (or a new one); only the scratch copy is touched.
            settings["Server:Dev"] = "true";
        }

        var configuration = builder.AddInMemoryCollection(settings).Build();
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
