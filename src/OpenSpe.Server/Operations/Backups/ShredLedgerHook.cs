using Microsoft.Extensions.Options;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>Writes every erased project into the shred ledger (the data directory's and, when configured, the copy outside it).</summary>
internal sealed class ShredLedgerHook(DataDirectory directory, IOptions<BackupOptions> options, TimeProvider time) : IProjectErasureHook
{
    /// <inheritdoc/>
    public Task OnProjectErasedAsync(string projectId, CancellationToken cancellationToken)
    {
        var entry = new ShredLedgerEntry(projectId, time.GetUtcNow());

        // Note: written before the erasure is recorded as done, so a backup made from now on, or a restore that reads the
        // outside copy, never brings this project's key back.
        ShredLedger.Append(directory.File(ShredLedger.FileName), entry);
        if (options.Value.ShredLedgerPath is { } outside)
        {
            ShredLedger.Append(outside, entry);
        }

        return Task.CompletedTask;
    }
}
