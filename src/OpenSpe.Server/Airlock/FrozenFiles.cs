using System.IO.Pipelines;
using System.Security.Cryptography;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Airlock;

/// <summary>
/// The airlock's frozen copies: each file of a request, encrypted with the project key (Crypt4GH, as the vault's datasets) at
/// <c>projects/&lt;project&gt;/airlock/&lt;request&gt;/&lt;position&gt;.c4gh</c>. Released files stay here, encrypted; the outbox
/// is these objects plus their approval.
/// </summary>
internal sealed class FrozenFiles(IObjectStore objects, IProjectKeyStore keys)
{
    private const int BufferSize = 1 << 16;

    /// <summary>The object key of a request's file.</summary>
    public static string KeyFor(string projectId, string requestId, int position) =>
        $"{ProjectIds.ObjectPrefix(projectId)}airlock/{requestId}/{position}.c4gh";

    /// <summary>Encrypts <paramref name="plaintext"/> for the project into <paramref name="key"/>.</summary>
    public async Task<StoredObject> FreezeAsync(string projectId, string key, Stream plaintext, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        var projectKey = await keys.GetPublicKeyAsync(projectId, cancellationToken);
        var pipe = new Pipe();
        var store = Task.Run(async () =>
        {
            try
            {
                return await objects.PutAsync(key, pipe.Reader.AsStream(leaveOpen: true), cancellationToken);
            }
            catch (Exception ex)
            {
                await pipe.Reader.CompleteAsync(ex);
                throw;
            }
        }, CancellationToken.None);
        try
        {
            await using (var encryptor = new Crypt4ghEncryptingStream(pipe.Writer.AsStream(leaveOpen: true), [projectKey]))
            {
                await plaintext.CopyToAsync(encryptor, BufferSize, cancellationToken);
                await encryptor.CompleteAsync(cancellationToken);
            }

            await pipe.Writer.CompleteAsync();
        }
        catch (Exception ex)
        {
            await pipe.Writer.CompleteAsync(ex);
            // The writer's failure is the one to report; the store's own failure that follows is observed here.
            _ = store.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw;
        }

        return await store;
    }

    /// <summary>
    /// Decrypts the frozen copy through <paramref name="sink"/> (null: only hash it) and returns the plaintext's SHA-256.
    /// </summary>
    public async Task<string> ReadAsync(string projectId, string key, Stream? sink, CancellationToken cancellationToken)
    {
        await using var ciphertext = await objects.OpenReadAsync(key, cancellationToken);
        var sealedHeader = await Crypt4ghHeader.ReadSealedAsync(ciphertext, cancellationToken);
        var header = await keys.UsePrivateKeyAsync(projectId, sealedHeader.Open, cancellationToken);
        await using var plaintext = new Crypt4ghDecryptingStream(ciphertext, header, leaveOpen: true);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BufferSize];
        int read;
        while ((read = await plaintext.ReadAsync(buffer, cancellationToken)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            if (sink is not null)
            {
                await sink.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
