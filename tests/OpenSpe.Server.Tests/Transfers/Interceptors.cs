using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>A point where a server call waits while armed, so a test can act at an exact moment (no sleeps).</summary>
internal sealed class Checkpoint
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int _armed;

    /// <summary>The next call (only that one) waits here until <see cref="Release"/>.</summary>
    public void Arm() => Volatile.Write(ref _armed, 1);

    /// <summary>Completes when a call has reached the checkpoint.</summary>
    public Task Entered => _entered.Task;

    public void Release() => _released.TrySetResult();

    internal async Task PassAsync()
    {
        if (Interlocked.Exchange(ref _armed, 0) == 0)
        {
            return;
        }

        _entered.TrySetResult();
        await _released.Task;
    }
}

/// <summary>Replaces a registered singleton with a wrapper around it.</summary>
internal static class ServiceDecoration
{
    public static void Decorate<T>(this IServiceCollection services, Func<T, T> wrap)
        where T : class
    {
        var original = services.Last(d => d.ServiceType == typeof(T));
        services.Remove(original);
        services.AddSingleton(sp => wrap((T)(original.ImplementationInstance
            ?? original.ImplementationFactory?.Invoke(sp)
            ?? ActivatorUtilities.CreateInstance(sp, original.ImplementationType!))));
    }
}

/// <summary>The project key store, waiting at <paramref name="checkpoint"/> before a private key is used (inside ingest verification).</summary>
internal sealed class CheckpointKeyStore(IProjectKeyStore inner, Checkpoint checkpoint) : IProjectKeyStore
{
    public string Backend => inner.Backend;

    public Task<Crypt4ghPublicKey> CreateProjectKeyAsync(string projectId, CancellationToken cancellationToken = default) => inner.CreateProjectKeyAsync(projectId, cancellationToken);

    public IReadOnlyList<string> ListProjects() => inner.ListProjects();

    public Task<bool> ExistsAsync(string projectId, CancellationToken cancellationToken = default) => inner.ExistsAsync(projectId, cancellationToken);

    public Task<Crypt4ghPublicKey> GetPublicKeyAsync(string projectId, CancellationToken cancellationToken = default) => inner.GetPublicKeyAsync(projectId, cancellationToken);

    public async Task<T> UsePrivateKeyAsync<T>(string projectId, Func<Crypt4ghPrivateKey, T> use, CancellationToken cancellationToken = default)
    {
        await checkpoint.PassAsync();
        return await inner.UsePrivateKeyAsync(projectId, use, cancellationToken);
    }

    public async Task<T> UsePrivateKeyAsync<T>(string projectId, Func<Crypt4ghPrivateKey, Task<T>> use, CancellationToken cancellationToken = default)
    {
        await checkpoint.PassAsync();
        return await inner.UsePrivateKeyAsync(projectId, use, cancellationToken);
    }

    public Task<ProjectKeyDestruction?> DestroyProjectKeyAsync(string projectId, CancellationToken cancellationToken = default) => inner.DestroyProjectKeyAsync(projectId, cancellationToken);

    public Task<MasterKeyRotation> RotateMasterKeyAsync(CancellationToken cancellationToken = default) => inner.RotateMasterKeyAsync(cancellationToken);
}

/// <summary>The object store, waiting at <paramref name="checkpoint"/> before a verified upload is taken over (inside the upload's commit).</summary>
internal sealed class CheckpointObjectStore(IObjectStore inner, Checkpoint checkpoint) : IObjectStore, IObjectFileImport
{
    public async Task ImportFileAsync(string key, string path, CancellationToken cancellationToken = default)
    {
        await checkpoint.PassAsync();
        await ((IObjectFileImport)inner).ImportFileAsync(key, path, cancellationToken);
    }

    public Task<StoredObject> PutAsync(string key, Stream content, CancellationToken cancellationToken = default) => inner.PutAsync(key, content, cancellationToken);

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) => inner.OpenReadAsync(key, cancellationToken);

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default) => inner.ExistsAsync(key, cancellationToken);

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

    public IAsyncEnumerable<ObjectEntry> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);
}
