using Microsoft.EntityFrameworkCore;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Permits;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Vault;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Workspaces;

/// <summary>
/// Fills a project's plaintext staging from the vault: each verified file of the permit's datasets is decrypted with the
/// project key into <c>&lt;dataset&gt;/&lt;file&gt;</c>, which the sandbox sees as <c>/data/&lt;dataset&gt;/&lt;file&gt;</c>.
/// </summary>
/// <remarks>
/// Note: the plaintext goes only to the staging's writer (memory-backed storage, SDR-4) and the key is unwrapped only while a
/// file's header is opened, as at ingest (TIR-8); a file that fails to decrypt fails the whole staging, so a job never sees
/// a dataset half there.
/// </remarks>
internal sealed class DatasetStager(SpeDbContext database, IObjectStore objects, IProjectKeyStore keys, PermitService permits)
{
    private const int BufferSize = 1 << 20;

    /// <summary>
    /// A lease on <paramref name="projectId"/>'s plaintext in <paramref name="staging"/>: the files of every dataset the project's
    /// permit names at the moment the staging is taken (read under the staging's lock), decrypted by the first lease that needs
    /// them and shared by the later ones (jobs, terminals, federated analyses).
    /// </summary>
    public Task<IPlaintextLease> LeaseAsync(IPlaintextStaging staging, string projectId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(staging);
        return staging.AcquireAsync(projectId, token => PermittedAsync(projectId, token),
            (writer, datasets, token) => PopulateAsync(projectId, datasets, writer, token), cancellationToken);
    }

    /// <summary>The datasets the project's permit names now; none when it has no permit.</summary>
    public async Task<IReadOnlyCollection<string>> PermittedAsync(string projectId, CancellationToken cancellationToken)
    {
        var permit = await permits.FindByProjectAsync(projectId, cancellationToken);
        return permit is null ? [] : [.. (await permits.CurrentDocumentAsync(permit, cancellationToken)).Datasets.Select(d => d.Id)];
    }

    /// <summary>Decrypts the files of <paramref name="datasets"/> of <paramref name="projectId"/> into <paramref name="writer"/>; returns how many.</summary>
    public async Task<int> PopulateAsync(string projectId, IReadOnlyCollection<string> datasets, IPlaintextWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var files = await database.ProjectFiles.AsNoTracking()
            .Where(f => f.ProjectId == projectId && datasets.Contains(f.DatasetId))
            .OrderBy(f => f.DatasetId).ThenBy(f => f.Filename)
            .Select(f => new { f.DatasetId, f.Filename, f.ObjectKey })
            .ToListAsync(cancellationToken);
        var buffer = new byte[BufferSize];
        foreach (var file in files)
        {
            await using var ciphertext = await objects.OpenReadAsync(file.ObjectKey, cancellationToken);
            var sealedHeader = await Crypt4ghHeader.ReadSealedAsync(ciphertext, cancellationToken);
            var header = await keys.UsePrivateKeyAsync(projectId, sealedHeader.Open, cancellationToken);
            await using var plaintext = new Crypt4ghDecryptingStream(ciphertext, header, leaveOpen: true);
            await using var target = writer.Create($"{file.DatasetId}/{file.Filename}");
            int read;
            while ((read = await plaintext.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }

        return files.Count;
    }
}
