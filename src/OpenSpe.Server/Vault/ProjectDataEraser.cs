using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Vault;

/// <summary>The erasure hook the permits module calls when a project ends (OPR-22): the project's key and objects go.</summary>
internal interface IProjectDataEraser
{
    /// <summary>
    /// Destroys the project's key (crypto-shredding: from then on its data cannot be decrypted)
    /// and then deletes every object under <c>projects/&lt;id&gt;/</c>. Safe to call again after a
    /// partial failure. Returns what was erased, for the erasure certificate.
    /// </summary>
    Task<ProjectErasure> EraseProjectAsync(string projectId, CancellationToken cancellationToken = default);
}

/// <summary>What an erasure destroyed.</summary>
/// <param name="ProjectId">The project.</param>
/// <param name="Key">The destroyed key, or null when the project had no key (left) at the time.</param>
/// <param name="ObjectPrefix">The object-key prefix that was emptied.</param>
/// <param name="ObjectCount">Objects deleted.</param>
/// <param name="Bytes">Bytes those objects held.</param>
/// <param name="StartedAt">When the erasure started.</param>
/// <param name="CompletedAt">When it completed.</param>
internal sealed record ProjectErasure(string ProjectId, ProjectKeyDestruction? Key, string ObjectPrefix, long ObjectCount, long Bytes, DateTimeOffset StartedAt, DateTimeOffset CompletedAt);

/// <summary>Erases a project from the key store and the object store.</summary>
internal sealed class ProjectDataEraser(IProjectKeyStore keys, IObjectStore objects, TimeProvider time, ILogger<ProjectDataEraser> logger) : IProjectDataEraser
{
    /// <inheritdoc/>
    public async Task<ProjectErasure> EraseProjectAsync(string projectId, CancellationToken cancellationToken = default)
    {
        var prefix = ProjectIds.ObjectPrefix(projectId);
        var startedAt = time.GetUtcNow();

        // Note: the key goes first, because once it is destroyed every object of the project is
        // unreadable ciphertext; if deleting the objects then fails, nothing readable is left behind.
        var key = await keys.DestroyProjectKeyAsync(projectId, cancellationToken).ConfigureAwait(false);

        var entries = new List<ObjectEntry>();
        await foreach (var entry in objects.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            entries.Add(entry);
        }

        long count = 0;
        long bytes = 0;
        foreach (var entry in entries)
        {
            if (await objects.DeleteAsync(entry.Key, cancellationToken).ConfigureAwait(false))
            {
                count++;
                bytes += entry.Size;
            }
        }

        var erasure = new ProjectErasure(projectId, key, prefix, count, bytes, startedAt, time.GetUtcNow());
        VaultLog.ProjectErased(logger, projectId, key?.KeyFingerprint ?? "none", key is not null, count, bytes);
        return erasure;
    }
}
