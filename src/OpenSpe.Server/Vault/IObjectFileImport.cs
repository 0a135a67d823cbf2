namespace OpenSpe.Server.Vault;

/// <summary>
/// A store that can take over a complete, already synced local file as an object without copying
/// it. The file-system store renames it into place; a remote store would upload it (S3 multipart).
/// Callers fall back to <see cref="IObjectStore.PutAsync"/> for stores without it.
/// </summary>
internal interface IObjectFileImport
{
    /// <summary>
    /// Makes the file at <paramref name="path"/> the object <paramref name="key"/>, atomically as
    /// <see cref="IObjectStore.PutAsync"/> does. On success the file is gone from <paramref name="path"/>;
    /// on failure it is back there (or was never moved) and no object is visible.
    /// </summary>
    Task ImportFileAsync(string key, string path, CancellationToken cancellationToken = default);
}
