using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Desktop;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Vault;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Operations.Components;

/// <summary>
/// Reads the versions of the system components the SPE uses: bubblewrap, TigerVNC and SoftHSM2 from their own
/// <c>--version</c> output at the configured paths, and the database server from the database itself.
/// </summary>
internal sealed partial class SystemComponentProbe(SpeDbContext database, SpeDatabase speDatabase, IOptions<WorkspaceOptions> workspaces, IOptions<DesktopOptions> desktop,
    ILogger<SystemComponentProbe> logger)
{
    /// <summary>How long one version command may take.</summary>
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The components with their versions, in a fixed order.</summary>
    public async Task<IReadOnlyList<SystemComponentView>> ProbeAsync(CancellationToken cancellationToken)
    {
        var hsmUtil = "/usr/bin/softhsm2-util";
        return
        [
            await DatabaseAsync(cancellationToken),
            await CommandAsync("bubblewrap", workspaces.Value.BwrapPath, "--version", cancellationToken),
            await CommandAsync("TigerVNC", desktop.Value.XServer, "-version", cancellationToken),
            await CommandAsync("SoftHSM2", hsmUtil, "--version", cancellationToken),
        ];
    }

    private async Task<SystemComponentView> DatabaseAsync(CancellationToken cancellationToken)
    {
        var postgres = speDatabase.Provider == DatabaseProvider.PostgreSql;
        var sql = postgres ? "SELECT current_setting('server_version') AS \"Value\"" : "SELECT sqlite_version() AS \"Value\"";
        var name = postgres ? "PostgreSQL server" : "SQLite";
        try
        {
            var version = (await database.Database.SqlQueryRaw<string>(sql).ToListAsync(cancellationToken)).FirstOrDefault();
            return new(name, version, version is not null, "the database in use");
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException)
        {
            ComponentLog.ProbeFailed(logger, name, ex.GetType().Name);
            return new(name, null, false, "the database in use (its version could not be read)");
        }
    }

    private async Task<SystemComponentView> CommandAsync(string name, string path, string argument, CancellationToken cancellationToken)
    {
        var source = $"{path} {argument}";
        if (!File.Exists(path))
        {
            return new(name, null, false, source + " (not installed)");
        }

        try
        {
            var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(argument);
            using var process = Process.Start(info)!;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(CommandTimeout);
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                ComponentLog.ProbeFailed(logger, name, "timeout");
                return new(name, null, true, source + " (did not answer)");
            }

            var version = VersionPattern().Match(await stdout + "\n" + await stderr);
            return new(name, version.Success ? version.Value : null, true, source);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            ComponentLog.ProbeFailed(logger, name, ex.GetType().Name);
            return new(name, null, false, source + " (could not run)");
        }
    }

    [GeneratedRegex(@"\d+\.\d+(\.\d+)*")]
    private static partial Regex VersionPattern();
}
