namespace OpenSpe.Disclosure.Files;

/// <summary>What a file's bytes are, judged from the content alone.</summary>
public enum ContentKind
{
    /// <summary>Valid UTF-8 without NUL bytes.</summary>
    Text,

    /// <summary>PNG image (signature 89 50 4E 47 0D 0A 1A 0A).</summary>
    Png,

    /// <summary>JPEG image (FF D8 FF).</summary>
    Jpeg,

    /// <summary>GIF image (GIF87a, GIF89a).</summary>
    Gif,

    /// <summary>WebP image (a RIFF container of form type WEBP).</summary>
    Webp,

    /// <summary>PDF document (%PDF-).</summary>
    Pdf,

    /// <summary>ZIP (and the office formats built on it), gzip, bzip2, xz, zstd, 7-Zip, RAR or tar.</summary>
    Archive,

    /// <summary>ELF, PE (MZ), Mach-O or Java class file.</summary>
    Executable,

    /// <summary>Anything else: binary data of no recognised kind.</summary>
    UnknownBinary,
}
