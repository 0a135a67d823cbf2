namespace OpenSpe.Contracts;

/// <summary>The project's Crypt4GH public key (<c>GET /api/v1/projects/{projectId}/public-key</c>).</summary>
public sealed record ProjectPublicKeyView(string PublicKey, string Fingerprint);

/// <summary>A verified dataset file (<c>GET /api/v1/projects/{projectId}/files</c>).</summary>
public sealed record ProjectFileView(string Id, string Dataset, string Filename, long Size, long PlaintextSize, string Sha256, string PlaintextSha256, string UploadedBy, DateTimeOffset UploadedAt);

/// <summary>
/// Would an upload be admitted (<c>POST /api/v1/projects/{projectId}/uploads/admission</c>)? The dataset, the plaintext's file name
/// (its type is judged by it) and the encrypted length, asked before a byte is encrypted or sent; 204 when a tus creation with
/// the same values would be admitted now, else the refusal that creation would give.
/// </summary>
public sealed record UploadAdmissionRequest(string? Dataset, string? Filename, long Length);

/// <summary>
/// An upload ticket (<c>POST /api/v1/projects/{projectId}/uploads/tickets</c>): a short-lived bearer token that opens only this
/// project's upload endpoints (tus, admission, public key, datasets) for the holder who asked, for the browser upload page.
/// </summary>
public sealed record UploadTicketView(string Ticket, DateTimeOffset ExpiresAt);
