using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Hosting;

/// <summary>How the server runs: where its data is, where it listens, and whether it is the embedded dev default.</summary>
internal sealed class ServerOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Server";

    /// <summary>Data directory (database, keys, certificates). Created 0700.</summary>
    [Required]
    [MaxLength(1024)]
    public string DataDirectory { get; set; } = "./.spe";

    /// <summary>HTTPS listen URLs, separated by semicolons. Plain <c>http://</c> is refused (TIR-3).</summary>
    [Required]
    public string Urls { get; set; } = "https://127.0.0.1:8443";

    /// <summary>Embedded dev default: self-signed certificate and seeded dev accounts.</summary>
    public bool Dev { get; set; }

    /// <summary>
    /// With <see cref="Dev"/>: issue the demo permit with its synthetic dataset on the first start (default true); the
    /// test suite turns it off so that each test sees only the projects it makes.
    /// </summary>
    public bool DevDemo { get; set; } = true;
}

/// <summary>The TLS certificate. Required outside dev mode; in dev mode a self-signed one is generated.</summary>
internal sealed class TlsOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Tls";

    /// <summary>PEM certificate (chain) file.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key file.</summary>
    public string? KeyPath { get; set; }
}
