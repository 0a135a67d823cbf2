namespace OpenSpe.Contracts;

/// <summary>The project's Crypt4GH public key (<c>GET /api/v1/projects/{projectId}/public-key</c>).</summary>
public sealed record ProjectPublicKeyView(string PublicKey, string Fingerprint);

/// <summary>A verified dataset file (<c>GET /api/v1/projects/{projectId}/files</c>).</summary>
public sealed record ProjectFileView(string Id, string Dataset, string Filename, long Size, long PlaintextSize, string Sha256, string PlaintextSha256, string UploadedBy, DateTimeOffset UploadedAt);
