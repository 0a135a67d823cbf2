namespace OpenSpe.Server.Transfers;

/// <summary>Row of <c>uploads</c>: a tus upload in progress. Its bytes are in the staging file; the offset is advanced only after they are on disk.</summary>
internal sealed class UploadEntity
{
    /// <summary>Upload id (also the staging file name).</summary>
    public string Id { get; set; } = "";

    /// <summary>Project.</summary>
    public string ProjectId { get; set; } = "";

    /// <summary>Dataset of the permit.</summary>
    public string DatasetId { get; set; } = "";

    /// <summary>File name as declared (display only; never used to build a path).</summary>
    public string Filename { get; set; } = "";

    /// <summary>Declared plaintext SHA-256 (hex), checked at completion; empty for a partial upload (its final upload declares it).</summary>
    public string PlaintextSha256 { get; set; } = "";

    /// <summary>
    /// A tus concatenation partial upload (<c>Upload-Concat: partial</c>): its last byte completes nothing; a final upload
    /// that names it, with the metadata, makes it a dataset file. Its <see cref="Filename"/> may be empty.
    /// </summary>
    public bool Partial { get; set; }

    /// <summary>Total length in bytes.</summary>
    public long Length { get; set; }

    /// <summary>Bytes durably received.</summary>
    public long Offset { get; set; }

    /// <summary>Account id of the uploader.</summary>
    public string CreatedBy { get; set; } = "";

    /// <summary>When it started.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When an unfinished upload is discarded.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>Row of <c>project_files</c>: an uploaded, verified, encrypted dataset file.</summary>
internal sealed class ProjectFileEntity
{
    /// <summary>File id.</summary>
    public string Id { get; set; } = "";

    /// <summary>Project.</summary>
    public string ProjectId { get; set; } = "";

    /// <summary>Dataset.</summary>
    public string DatasetId { get; set; } = "";

    /// <summary>Declared file name.</summary>
    public string Filename { get; set; } = "";

    /// <summary>Encrypted size.</summary>
    public long Size { get; set; }

    /// <summary>Plaintext size.</summary>
    public long PlaintextSize { get; set; }

    /// <summary>SHA-256 of the Crypt4GH bytes (hex).</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>SHA-256 of the plaintext (hex), verified at ingest.</summary>
    public string PlaintextSha256 { get; set; } = "";

    /// <summary>Object-store key.</summary>
    public string ObjectKey { get; set; } = "";

    /// <summary>Account id of the uploader.</summary>
    public string UploadedBy { get; set; } = "";

    /// <summary>When it was verified and stored.</summary>
    public DateTimeOffset UploadedAt { get; set; }
}
