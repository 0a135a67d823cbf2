using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Transfers;

/// <summary>The browser upload page's settings (section <c>UploadPage</c>), validated at start.</summary>
internal sealed class UploadPageOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "UploadPage";

    /// <summary>
    /// Where the page's browser libraries are (<c>deploy/install-upload-js.sh</c>: <c>noble-curves/</c>, <c>noble-ciphers/</c>,
    /// <c>noble-hashes/</c>, <c>tus/tus.min.js</c>), served under <c>/upload/lib/</c>.
    /// </summary>
    [Required]
    public string LibraryDirectory { get; set; } = "/usr/local/share/openspe/upload-js";

    /// <summary>
    /// Encrypted bytes per tus PATCH the page sends: what the browser holds in memory at once, and what a lost connection
    /// costs at most to send again.
    /// </summary>
    [Range(64 * 1024, 256 * 1024 * 1024)]
    public int ChunkBytes { get; set; } = 8 * 1024 * 1024;
}
