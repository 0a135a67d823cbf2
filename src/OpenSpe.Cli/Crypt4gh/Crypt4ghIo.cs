using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using OpenSpe.Cli.Client;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Cli.Crypt4gh;

/// <summary>Standard streams and key files for the <c>spe crypt4gh</c> verbs.</summary>
internal static class Crypt4ghIo
{
    /// <summary>
    /// Standard input as a stream. A <see cref="FileStream"/> over descriptor 0 can seek when the shell redirects a
    /// regular file (<c>&lt; file.c4gh</c>), so <c>decrypt --range</c> jumps straight to the segments it needs instead of
    /// decrypting everything before them; on a pipe it reads forward as usual.
    /// </summary>
    public static Stream OpenInput()
    {
        try
        {
            return new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            // A closed or unusual descriptor 0: the console stream copes with anything the runtime supports.
            return Console.OpenStandardInput();
        }
    }

    /// <summary>Standard output, unbuffered: each encrypted or authenticated segment goes out as a whole.</summary>
    public static Stream OpenOutput() => Console.OpenStandardOutput();

    /// <summary>Loads a private key, asking for its passphrase only if it is locked.</summary>
    public static Crypt4ghPrivateKey LoadPrivateKey(string path)
    {
        var text = ReadKeyText(path, "private key");
        try
        {
            return Crypt4ghPrivateKey.Parse(text, () => Passphrase.ForUnlocking(path));
        }
        catch (Crypt4ghException ex)
        {
            throw new SpeClientException($"{path}: {ex.Message}", ex);
        }
    }

    public static Crypt4ghPublicKey LoadPublicKey(string path)
    {
        var text = ReadKeyText(path, "public key");
        Crypt4ghPublicKey key;
        try
        {
            key = Crypt4ghPublicKey.Parse(text);
        }
        catch (Crypt4ghException ex)
        {
            throw new SpeClientException($"{path}: {ex.Message}", ex);
        }

        try
        {
            // Note: tried once here, because a low-order point (32 zero bytes, say) parses as a key but gives no shared key:
            // encrypting to it failed later with an unhandled ArgumentException and a stack trace instead of one line.
            _ = Crypt4ghHeader.Create().Encrypt([key]);
        }
        catch (ArgumentException ex)
        {
            throw new SpeClientException($"{path}: the public key is a low-order point, to which nothing can be encrypted", ex);
        }

        return key;
    }

    /// <summary>
    /// Writes a new file through a temporary file and a rename, so that a reader never sees half a key and the mode
    /// (0600 for a secret key) is set at creation: replacing an existing file in place would keep its old mode.
    /// </summary>
    /// <exception cref="SpeClientException">The file exists and <paramref name="replace"/> is false.</exception>
    public static void WriteKeyFile(string path, string text, UnixFileMode mode, bool replace)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? ".";
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, UnixCreateMode = mode };
        var bytes = Encoding.UTF8.GetBytes(text);
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temporary, full, overwrite: replace);
            }
            catch (IOException) when (!replace && File.Exists(full))
            {
                throw new SpeClientException($"{path} exists; give --force to replace it");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
            File.Delete(temporary); // nothing left behind if the write or the rename failed; a no-op after the rename
        }
    }

    private static string ReadKeyText(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SpeClientException($"cannot read the {what} {path}: {ProblemText.OneLine(ex.Message)}", ex);
        }
    }
}
