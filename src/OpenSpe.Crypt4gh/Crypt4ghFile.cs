namespace OpenSpe.Crypt4gh;

/// <summary>Whole-stream Crypt4GH operations: encrypt, decrypt and re-encrypt the header for new readers.</summary>
public static class Crypt4ghFile
{
    /// <summary>The plaintext size of a data segment (64 KiB); the last segment may be shorter.</summary>
    public const int SegmentSize = Format.SegmentSize;

    /// <summary>The stored size of a full data segment: nonce (12) + ciphertext (65,536) + MAC (16).</summary>
    public const int CipherSegmentSize = Format.CipherSegmentSize;

    /// <summary>Encrypts all of <paramref name="plaintext"/> into a Crypt4GH file on <paramref name="output"/>.</summary>
    /// <param name="plaintext">The data to encrypt, read to its end.</param>
    /// <param name="output">Where the file is written (left open).</param>
    /// <param name="recipients">The readers' public keys.</param>
    /// <param name="options">Writer key, edit list, data keys; null for the defaults.</param>
    public static void Encrypt(Stream plaintext, Stream output, IEnumerable<Crypt4ghPublicKey> recipients, Crypt4ghEncryptionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        using var encrypting = new Crypt4ghEncryptingStream(output, recipients, LeaveOpen(options));
        plaintext.CopyTo(encrypting, Format.SegmentSize * 4);
        encrypting.Complete();
    }

    /// <summary>Asynchronously encrypts all of <paramref name="plaintext"/>; see <see cref="Encrypt"/>.</summary>
    /// <param name="plaintext">The data to encrypt, read to its end.</param>
    /// <param name="output">Where the file is written (left open).</param>
    /// <param name="recipients">The readers' public keys.</param>
    /// <param name="options">Writer key, edit list, data keys; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public static async Task EncryptAsync(Stream plaintext, Stream output, IEnumerable<Crypt4ghPublicKey> recipients, Crypt4ghEncryptionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        var encrypting = new Crypt4ghEncryptingStream(output, recipients, LeaveOpen(options));
        await using (encrypting.ConfigureAwait(false))
        {
            await plaintext.CopyToAsync(encrypting, Format.SegmentSize * 4, cancellationToken).ConfigureAwait(false);
            await encrypting.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Decrypts a whole Crypt4GH file (edit list applied) to <paramref name="output"/>.</summary>
    /// <param name="input">The Crypt4GH stream (left open).</param>
    /// <param name="output">Where the plaintext is written (left open).</param>
    /// <param name="readerKey">The reader's private key.</param>
    /// <param name="expectedWriter">If set, header packets from any other writer are ignored.</param>
    /// <returns>The decrypted header.</returns>
    /// <exception cref="Crypt4ghException">The file is malformed, not for this key, or fails authentication; bytes of a segment that fails are never written.</exception>
    public static Crypt4ghHeader Decrypt(Stream input, Stream output, Crypt4ghPrivateKey readerKey, Crypt4ghPublicKey? expectedWriter = null)
    {
        using var decrypting = new Crypt4ghDecryptingStream(input, readerKey, expectedWriter, leaveOpen: true);
        decrypting.CopyTo(output);
        return decrypting.Header;
    }

    /// <summary>Asynchronously decrypts a whole Crypt4GH file; see <see cref="Decrypt"/>.</summary>
    /// <param name="input">The Crypt4GH stream (left open).</param>
    /// <param name="output">Where the plaintext is written (left open).</param>
    /// <param name="readerKey">The reader's private key.</param>
    /// <param name="expectedWriter">If set, header packets from any other writer are ignored.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public static async Task<Crypt4ghHeader> DecryptAsync(Stream input, Stream output, Crypt4ghPrivateKey readerKey, Crypt4ghPublicKey? expectedWriter = null, CancellationToken cancellationToken = default)
    {
        var decrypting = await Crypt4ghDecryptingStream.OpenAsync(input, readerKey, expectedWriter, leaveOpen: true, cancellationToken).ConfigureAwait(false);
        await using (decrypting.ConfigureAwait(false))
        {
            await decrypting.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            return decrypting.Header;
        }
    }

    /// <summary>
    /// Copies a Crypt4GH file with its header re-encrypted for <paramref name="recipients"/>: the header is opened
    /// with <paramref name="readerKey"/>, its packets are encrypted anew for each recipient, and the data segments
    /// are copied unchanged (never decrypted).
    /// </summary>
    /// <param name="input">The Crypt4GH stream (left open).</param>
    /// <param name="output">Where the new file is written (left open).</param>
    /// <param name="readerKey">A private key that opens the current header.</param>
    /// <param name="recipients">The new readers.</param>
    /// <param name="writerKey">The writer key of the new packets; null for an ephemeral one.</param>
    /// <param name="keepOtherPackets">Keep, unchanged, header packets <paramref name="readerKey"/> cannot open.</param>
    public static void Reencrypt(Stream input, Stream output, Crypt4ghPrivateKey readerKey, IEnumerable<Crypt4ghPublicKey> recipients, Crypt4ghPrivateKey? writerKey = null, bool keepOtherPackets = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        var header = Crypt4ghHeader.Reencrypt(input, readerKey, recipients, writerKey, keepOtherPackets);
        output.Write(header);
        input.CopyTo(output, Format.CipherSegmentSize * 4);
    }

    /// <summary>Asynchronously re-encrypts the header and copies the data segments; see <see cref="Reencrypt"/>.</summary>
    /// <param name="input">The Crypt4GH stream (left open).</param>
    /// <param name="output">Where the new file is written (left open).</param>
    /// <param name="readerKey">A private key that opens the current header.</param>
    /// <param name="recipients">The new readers.</param>
    /// <param name="writerKey">The writer key of the new packets; null for an ephemeral one.</param>
    /// <param name="keepOtherPackets">Keep, unchanged, header packets <paramref name="readerKey"/> cannot open.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    public static async Task ReencryptAsync(Stream input, Stream output, Crypt4ghPrivateKey readerKey, IEnumerable<Crypt4ghPublicKey> recipients, Crypt4ghPrivateKey? writerKey = null, bool keepOtherPackets = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var header = await Crypt4ghHeader.ReencryptAsync(input, readerKey, recipients, writerKey, keepOtherPackets, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        await input.CopyToAsync(output, Format.CipherSegmentSize * 4, cancellationToken).ConfigureAwait(false);
    }

    private static Crypt4ghEncryptionOptions LeaveOpen(Crypt4ghEncryptionOptions? options) => new()
    {
        WriterKey = options?.WriterKey,
        EditList = options?.EditList,
        DataKeyCount = options?.DataKeyCount ?? 1,
        DataKeySelector = options?.DataKeySelector,
        LeaveOpen = true,
    };
}
