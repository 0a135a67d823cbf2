using System.Security.Cryptography;

namespace OpenSpe.Server.Hosting;

/// <summary>An ECDSA P-256 private key kept as PKCS#8 PEM in the data directory (0600), generated on first start.</summary>
internal static class P256KeyFile
{
    /// <summary>Loads the key in <paramref name="fileName"/>, or generates and writes it when there is none.</summary>
    public static ECDsa LoadOrCreate(DataDirectory directory, string fileName)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var path = directory.File(fileName);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
        }
        else
        {
            directory.WriteSecret(fileName, key.ExportPkcs8PrivateKeyPem());
        }

        return key;
    }
}
