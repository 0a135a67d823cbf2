namespace OpenSpe.Contracts;

/// <summary>
/// The tus 1.0.0 resumable upload protocol as the SPE speaks it at <c>/api/v1/projects/{projectId}/uploads</c>: the
/// version, the extensions offered, the header names and the <c>Upload-Metadata</c> keys.
/// </summary>
public static class TusProtocol
{
    /// <summary>The protocol version (<c>Tus-Resumable</c>, <c>Tus-Version</c>).</summary>
    public const string Version = "1.0.0";

    /// <summary>The media type of PATCH bodies (and of a creation-with-upload body).</summary>
    public const string OffsetOctetStream = "application/offset+octet-stream";

    /// <summary>The extensions the SPE offers, as <c>Tus-Extension</c> lists them.</summary>
    public const string Extensions = Creation + "," + CreationWithUpload + "," + Checksum + "," + Expiration + "," + Termination + "," + Concatenation;

    /// <summary>The creation extension.</summary>
    public const string Creation = "creation";

    /// <summary>The creation-with-upload extension.</summary>
    public const string CreationWithUpload = "creation-with-upload";

    /// <summary>The checksum extension.</summary>
    public const string Checksum = "checksum";

    /// <summary>The expiration extension.</summary>
    public const string Expiration = "expiration";

    /// <summary>The termination extension.</summary>
    public const string Termination = "termination";

    /// <summary>The concatenation extension.</summary>
    public const string Concatenation = "concatenation";

    /// <summary><c>Upload-Concat</c> of a partial upload.</summary>
    public const string ConcatPartial = "partial";

    /// <summary>The start of <c>Upload-Concat</c> of a final upload, followed by the partial uploads' URLs.</summary>
    public const string ConcatFinalPrefix = "final;";
}

/// <summary>The tus request and response headers.</summary>
public static class TusHeaders
{
    /// <summary>The protocol version a message follows (every request but OPTIONS, every answer).</summary>
    public const string Resumable = "Tus-Resumable";

    /// <summary>OPTIONS: the versions the server speaks.</summary>
    public const string Version = "Tus-Version";

    /// <summary>OPTIONS: the extensions the server offers.</summary>
    public const string Extension = "Tus-Extension";

    /// <summary>OPTIONS: the largest upload accepted, in bytes.</summary>
    public const string MaxSize = "Tus-Max-Size";

    /// <summary>OPTIONS: the checksum algorithms accepted.</summary>
    public const string ChecksumAlgorithm = "Tus-Checksum-Algorithm";

    /// <summary>Where the upload's bytes end (PATCH request, HEAD and PATCH answers).</summary>
    public const string UploadOffset = "Upload-Offset";

    /// <summary>The upload's length in bytes.</summary>
    public const string UploadLength = "Upload-Length";

    /// <summary>Creation: comma-separated <c>key base64(value)</c> pairs (keys in <see cref="TusMetadata"/>).</summary>
    public const string UploadMetadata = "Upload-Metadata";

    /// <summary>A chunk's checksum: <c>algorithm base64(digest)</c>.</summary>
    public const string UploadChecksum = "Upload-Checksum";

    /// <summary>When an unfinished upload expires (RFC 9110 date).</summary>
    public const string UploadExpires = "Upload-Expires";

    /// <summary>Concatenation: <c>partial</c>, or <c>final;</c> and the partial uploads.</summary>
    public const string UploadConcat = "Upload-Concat";

    /// <summary>The SPE's own: the id of the dataset file a completed upload became.</summary>
    public const string UploadFileId = "Upload-File-Id";
}

/// <summary>The keys of <c>Upload-Metadata</c> the SPE reads.</summary>
public static class TusMetadata
{
    /// <summary>The permit's dataset the file belongs to.</summary>
    public const string Dataset = "dataset";

    /// <summary>The plaintext's file name (its type is judged by it).</summary>
    public const string Filename = "filename";

    /// <summary>The plaintext's SHA-256 (64 lower-case hex digits), checked after decryption.</summary>
    public const string PlaintextSha256 = "plaintextSha256";
}
