namespace OpenSpe.Contracts;

/// <summary>
/// Stable error identifiers shared by problem details (<c>code</c>), logs and the audit log.
/// Each has a line in docs/errors.md; never renumber.
/// </summary>
public static class ErrorCodes
{
    /// <summary>Unexpected server error.</summary>
    public const string Internal = "SPE1000";

    /// <summary>Malformed JSON, unknown property or wrong type in the body.</summary>
    public const string MalformedBody = "SPE1001";

    /// <summary>Input failed validation (length, range, format).</summary>
    public const string ValidationFailed = "SPE1002";

    /// <summary>Body larger than allowed.</summary>
    public const string BodyTooLarge = "SPE1003";

    /// <summary>Too many requests.</summary>
    public const string RateLimited = "SPE1004";

    /// <summary>Not authenticated.</summary>
    public const string Unauthenticated = "SPE1005";

    /// <summary>Authenticated but not allowed.</summary>
    public const string Forbidden = "SPE1006";

    /// <summary>No such resource or route.</summary>
    public const string NotFound = "SPE1007";

    /// <summary>Method not allowed on this route.</summary>
    public const string MethodNotAllowed = "SPE1008";

    /// <summary>The API version is past its sunset date.</summary>
    public const string VersionSunset = "SPE1009";

    /// <summary>Other malformed request (bad query value, bad header).</summary>
    public const string BadRequest = "SPE1010";

    /// <summary>Unsupported media type.</summary>
    public const string UnsupportedMediaType = "SPE1011";

    /// <summary>The project (or the whole SPE) is halted.</summary>
    public const string ProjectHalted = "SPE3001";

    /// <summary>The permit is not in force (suspended, expired, revoked, terminated, or outside its validity).</summary>
    public const string PermitNotActive = "SPE3002";

    /// <summary>The permit's state does not allow this change.</summary>
    public const string PermitStateConflict = "SPE3003";

    /// <summary>The two-person rule: a different person must lift the halt.</summary>
    public const string TwoPersonRule = "SPE3004";

    /// <summary>This instance has not been able to read the halts in force for longer than the staleness bound (fail closed).</summary>
    public const string HaltStateUnknown = "SPE3005";

    /// <summary>A completed upload failed verification (not Crypt4GH for this project, damaged, checksum or file type).</summary>
    public const string UploadRejected = "SPE5100";

    /// <summary>An upload is larger than the largest accepted (<c>Uploads:MaxUploadBytes</c>).</summary>
    public const string UploadTooLarge = "SPE5103";

    /// <summary>An upload would take the project past its storage quota (<c>Uploads:MaxProjectBytes</c>).</summary>
    public const string ProjectQuotaExceeded = "SPE5104";

    /// <summary>Not enough free space for the upload's bytes without touching the reserve kept for the audit log and database.</summary>
    public const string InsufficientStorage = "SPE5105";

    /// <summary>409: the dataset already holds a file of that name; delete it first to replace it.</summary>
    public const string DatasetFileExists = "SPE5106";

    /// <summary>The audit log cannot be written; the request was refused (fail closed).</summary>
    public const string AuditUnavailable = "SPE2100";

    /// <summary>A dependency (database) is not ready.</summary>
    public const string NotReady = "SPE2001";
}
