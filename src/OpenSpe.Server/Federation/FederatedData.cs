using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Federation;

/// <summary>
/// Reads a project's dataset files for an analysis: each Crypt4GH object decrypted with the project key as a stream, never
/// written anywhere (SDR-4), the key unwrapped only while a header is opened, as the dataset staging does.
/// </summary>
internal sealed class FederatedData(IServiceScopeFactory scopes, IObjectStore objects, IProjectKeyStore keys) : IFederatedData
{
    /// <inheritdoc />
    public async Task ReadFilesAsync(string projectId, string datasetId, Func<string, Stream, CancellationToken, Task> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        List<(string Filename, string ObjectKey)> files;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
            files = (await database.ProjectFiles.AsNoTracking()
                .Where(f => f.ProjectId == projectId && f.DatasetId == datasetId)
                .OrderBy(f => f.Filename)
                .Select(f => new { f.Filename, f.ObjectKey })
                .ToListAsync(cancellationToken)).Select(f => (f.Filename, f.ObjectKey)).ToList();
        }

        foreach (var (filename, objectKey) in files)
        {
            await using var ciphertext = await objects.OpenReadAsync(objectKey, cancellationToken);
            var sealedHeader = await Crypt4ghHeader.ReadSealedAsync(ciphertext, cancellationToken);
            var header = await keys.UsePrivateKeyAsync(projectId, sealedHeader.Open, cancellationToken);
            await using var plaintext = new Crypt4ghDecryptingStream(ciphertext, header, leaveOpen: true);
            await read(filename, plaintext, cancellationToken);
        }
    }
}
