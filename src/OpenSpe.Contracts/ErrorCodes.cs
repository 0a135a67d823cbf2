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

    /// <summary>The request conflicts with what exists (a name or identity already taken).</summary>
    public const string Conflict = "SPE1012";

    /// <summary>A precondition the request states (or must state) does not hold.</summary>
    public const string PreconditionFailed = "SPE1013";

    /// <summary>The body is well formed but its content cannot be processed.</summary>
    public const string UnprocessableContent = "SPE1014";

    /// <summary>The account changed while an admin's change to it ran (another admin's change at the same time): nothing was changed.</summary>
    public const string AccountChanged = "SPE1100";

    /// <summary>The admin who asked for a change waiting for approval is no longer an enabled admin: the request is withdrawn, not approved.</summary>
    public const string RequesterNoLongerAdmin = "SPE1101";

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

    /// <summary>A tus PATCH whose <c>Upload-Offset</c> is not the server's offset (HTTP 409).</summary>
    public const string UploadOffsetMismatch = "SPE5106";

    /// <summary>A tus request without the supported <c>Tus-Resumable</c> version (HTTP 412).</summary>
    public const string TusVersionUnsupported = "SPE5107";

    /// <summary>A tus PATCH whose <c>Upload-Checksum</c> does not match the bytes received (HTTP 460).</summary>
    public const string UploadChecksumMismatch = "SPE5108";

    /// <summary>409: the dataset already holds a file of that name; delete it first to replace it.</summary>
    public const string DatasetFileExists = "SPE5109";

    /// <summary>The audit log cannot be written; the request was refused (fail closed).</summary>
    public const string AuditUnavailable = "SPE2100";

    /// <summary>A dependency (database) is not ready.</summary>
    public const string NotReady = "SPE2001";

    /// <summary>403: the permit does not allow this kind of workspace (<c>policies.workspaceKinds</c> lacks <c>job</c>).</summary>
    public const string WorkspaceKindNotAllowed = "SPE6001";

    /// <summary>403: the component is not one the permit approves (<c>policies.approvedComponents</c>).</summary>
    public const string ComponentNotApproved = "SPE6002";

    /// <summary>422: the component's file in the project is missing or its SHA-256 is not the approved one (FCR-4).</summary>
    public const string ComponentHashMismatch = "SPE6003";

    /// <summary>429: the project's job queue is full (<c>Jobs:MaxQueuedPerProject</c>).</summary>
    public const string JobQueueFull = "SPE6004";

    /// <summary>503: this server cannot run sandboxes (no runtime, or the runtime is unavailable here).</summary>
    public const string WorkspacesUnavailable = "SPE6005";

    /// <summary>409: the job has ended already; there is nothing to cancel.</summary>
    public const string JobEnded = "SPE6006";

    /// <summary>503: desktops cannot run on this server (no sandbox runtime, or the desktop programs are missing).</summary>
    public const string DesktopUnavailable = "SPE6100";

    /// <summary>401: the desktop ticket is unknown, expired, already used, or for another project.</summary>
    public const string DesktopTicketInvalid = "SPE6101";

    /// <summary>400: the terms of use were not accepted, or an older version of them was.</summary>
    public const string DesktopTermsNotAccepted = "SPE6102";

    /// <summary>403: the permit does not allow the <c>desktop</c> workspace kind.</summary>
    public const string DesktopNotAllowed = "SPE6103";

    /// <summary>400: the desktop endpoint was called without a WebSocket upgrade.</summary>
    public const string DesktopNotWebSocket = "SPE6104";

    /// <summary>503: the desktop did not start in the sandbox in time.</summary>
    public const string DesktopStartFailed = "SPE6105";

    /// <summary>429: the account holds as many unused desktop and terminal tickets as it may; use one or let them expire.</summary>
    public const string SessionTicketsOutstanding = "SPE6106";

    /// <summary>503: this server instance holds as many session tickets as it keeps; try again within a minute.</summary>
    public const string SessionTicketsFull = "SPE6107";

    /// <summary>403: a browser opened the desktop or terminal WebSocket from a page of another origin.</summary>
    public const string SessionCrossOrigin = "SPE6108";

    /// <summary>503: terminals cannot run on this server (no sandbox runtime, or the PTY helper's Python or the shell is missing).</summary>
    public const string TerminalUnavailable = "SPE6200";

    /// <summary>401: the terminal ticket is unknown, expired, already used, for another project or for another kind of session.</summary>
    public const string TerminalTicketInvalid = "SPE6201";

    /// <summary>400: the terms of use were not accepted for the terminal, or an older version of them was.</summary>
    public const string TerminalTermsNotAccepted = "SPE6202";

    /// <summary>403: the permit does not allow the <c>terminal</c> workspace kind.</summary>
    public const string TerminalNotAllowed = "SPE6203";

    /// <summary>400: the terminal endpoint was called without a WebSocket upgrade.</summary>
    public const string TerminalNotWebSocket = "SPE6204";

    /// <summary>503: the terminal did not start in the project's sandbox.</summary>
    public const string TerminalStartFailed = "SPE6205";

    /// <summary>503: this server cannot reach project files (no workspace runtime), so nothing can pass the airlock.</summary>
    public const string AirlockUnavailable = "SPE6300";

    /// <summary>422: an output file is refused as it is (missing, a symlink, not a regular file, linked elsewhere, too large).</summary>
    public const string AirlockFileRefused = "SPE6301";

    /// <summary>403: the requester of an airlock request cannot review it.</summary>
    public const string AirlockOwnRequest = "SPE6302";

    /// <summary>409: the request or file is decided already, sent back, or already decided on by this checker.</summary>
    public const string AirlockNotPending = "SPE6303";

    /// <summary>422: a file whose automatic check failed is approved only with an override reason.</summary>
    public const string AirlockOverrideRequired = "SPE6304";

    /// <summary>409: the file is not released (pending or rejected), so it cannot be downloaded.</summary>
    public const string AirlockNotReleased = "SPE6305";

    /// <summary>500: the frozen copy no longer has the SHA-256 it was frozen with; it is not released.</summary>
    public const string AirlockIntegrity = "SPE6306";

    /// <summary>422: an import's file type is not allowed by the permit's <c>fileTypes.import</c> (by extension and content).</summary>
    public const string AirlockImportTypeRefused = "SPE6307";

    /// <summary>403: the permit allows no exports (<c>fileTypes.export</c> is empty) or no imports (<c>fileTypes.import</c>).</summary>
    public const string AirlockDirectionClosed = "SPE6308";

    /// <summary>409: an import request has no approved file waiting to be placed again.</summary>
    public const string AirlockNothingToPlace = "SPE6309";

    /// <summary>400: a federated analysis's parameters are malformed (JSON, family, formula syntax, β length).</summary>
    public const string FederatedAnalysisInvalidParameters = "SPE7050";

    /// <summary>422: a node's dataset cannot serve a federated analysis (file, column or CDM schema).</summary>
    public const string FederatedAnalysisDatasetUnusable = "SPE7051";

    /// <summary>422: a GLM disclosure trap fired at a node, which withheld everything.</summary>
    public const string FederatedAnalysisDisclosureTrap = "SPE7052";

    /// <summary>422: the coordinator could not combine the nodes' answers (columns differ, singular information matrix).</summary>
    public const string FederatedAnalysisCombineFailed = "SPE7053";

    /// <summary>422: a node refused, so the federated result was not computed.</summary>
    public const string FederatedAnalysisNodeRefused = "SPE7054";

    /// <summary>404: the node has no analysis of the requested component.</summary>
    public const string FederatedAnalysisUnknownComponent = "SPE7055";

    /// <summary>In a node's refusal: this node cannot run federated components in a sandbox (none configured, or it failed to start); it never runs them otherwise.</summary>
    public const string FederatedComponentSandboxUnavailable = "SPE7056";

    /// <summary>In a node's refusal: the component's answer in its sandbox was too long, malformed, not of its declared shape, or it ended without one; nothing of it left the node.</summary>
    public const string FederatedComponentOutputRefused = "SPE7057";

    /// <summary>In a node's refusal: the node's component runner differs from the one its build wrote down (a file changed, added or missing), so nothing was run.</summary>
    public const string FederatedComponentRunnerChanged = "SPE7058";

    /// <summary>409: a federated learning round would exceed the permit's privacy budget; refused before any noise was drawn.</summary>
    public const string FederatedLearningBudgetExhausted = "SPE7080";

    /// <summary>422: an incident names a project this SPE does not have.</summary>
    public const string IncidentUnknownProject = "SPE8001";

    /// <summary>409: the incident is closed; nothing more is recorded on it.</summary>
    public const string IncidentClosed = "SPE8002";

    /// <summary>409: an incident is closed only after its final report to the HDAB was recorded (OPR-19).</summary>
    public const string IncidentFinalReportMissing = "SPE8003";

    /// <summary>409: the incident names no project, so there is nothing to halt (halt the SPE with <c>spe halt</c>).</summary>
    public const string IncidentNothingToHalt = "SPE8004";

    /// <summary>409: the incident changed since it was read (another operator's update); read it again.</summary>
    public const string IncidentChanged = "SPE8005";

    /// <summary>409: the alert was already acknowledged.</summary>
    public const string AlertAlreadyAcknowledged = "SPE8100";

    /// <summary>409: an incident was already opened from this alert.</summary>
    public const string AlertIncidentExists = "SPE8101";

    /// <summary>409: the alert changed since it was read (another operator acknowledged it or opened its incident); read it again.</summary>
    public const string AlertChanged = "SPE8102";

    /// <summary>403: the alert is about the caller's own account; another operator acknowledges it (separation of duties).</summary>
    public const string AlertAboutSelf = "SPE8103";

    /// <summary>gRPC INVALID_ARGUMENT: a federation call without a deadline, or with one longer than the node allows.</summary>
    public const string FederationDeadline = "SPE7001";

    /// <summary>gRPC RESOURCE_EXHAUSTED: the peer's call rate, its open streams or the node's open tasks are at their limit.</summary>
    public const string FederationExhausted = "SPE7002";

    /// <summary>
    /// gRPC UNAUTHENTICATED: the peer's certificate, admitted at its connection's handshake, is no longer admitted on this call
    /// (revoked or expired since, or the revocation list is unusable); the reason follows the code.
    /// </summary>
    public const string FederationPeerNotAdmitted = "SPE7003";

    /// <summary>gRPC PERMISSION_DENIED: the permit is not a JWS of an issuer this node trusts, or its signature does not verify.</summary>
    public const string FederationPermitUntrusted = "SPE7010";

    /// <summary>gRPC FAILED_PRECONDITION: the permit is not in force (not active, outside its validity), as signed or at this node.</summary>
    public const string FederationPermitNotInForce = "SPE7011";

    /// <summary>gRPC FAILED_PRECONDITION: the permit has no project at this node (not imported).</summary>
    public const string FederationPermitNotHere = "SPE7012";

    /// <summary>gRPC FAILED_PRECONDITION: the permit's project at this node, or this SPE, is halted.</summary>
    public const string FederationHalted = "SPE7013";

    /// <summary>gRPC PERMISSION_DENIED: the requester is not a data user of the permit.</summary>
    public const string FederationRequesterNotInPermit = "SPE7014";

    /// <summary>gRPC FAILED_PRECONDITION: this node holds no dataset of the permit.</summary>
    public const string FederationNoLocalDataset = "SPE7015";

    /// <summary>gRPC PERMISSION_DENIED: the permit's <c>approvedComponents</c> do not list the component.</summary>
    public const string FederationComponentNotApproved = "SPE7016";

    /// <summary>gRPC PERMISSION_DENIED: the node's operator does not allow the component (<c>Federation:AllowedComponents</c>).</summary>
    public const string FederationComponentNotAllowed = "SPE7017";

    /// <summary>gRPC NOT_FOUND: the node has no such component.</summary>
    public const string FederationComponentUnknown = "SPE7018";

    /// <summary>gRPC NOT_FOUND: no such task for this peer (tasks are watched only by the peer that submitted them, once).</summary>
    public const string FederationTaskUnknown = "SPE7019";

    /// <summary>422: an imported permit is not signed by an issuer this node trusts, is not in force, or names no dataset this node holds.</summary>
    public const string FederationImportRefused = "SPE7020";

    /// <summary>
    /// gRPC PERMISSION_DENIED: no <c>approvedComponents</c> entry of the component's name carries the version and SHA-256 of what this
    /// node runs for it (its runner's identity, in <c>GetCapabilities</c>), or this node's build has no runner manifest.
    /// </summary>
    public const string FederationComponentIdentityMismatch = "SPE7021";

    /// <summary>
    /// gRPC PERMISSION_DENIED: the calling node does not coordinate this permit: only the federation node of the SPE whose HDAB
    /// signed it does (<c>Federation:TrustedPermitIssuers</c>' <c>Node</c>; this SPE alone for a permit its own HDAB signed).
    /// </summary>
    public const string FederationNotCoordinator = "SPE7022";

    /// <summary>In a node's refusal: the coordinator could not reach the node, or the call failed in transport (deadline, TLS, connection).</summary>
    public const string FederationPeerUnreachable = "SPE7060";

    /// <summary>In a node's refusal: the permit names a node that <c>Federation:Peers</c> gives no address for.</summary>
    public const string FederationPeerUnknown = "SPE7061";

    /// <summary>In a node's refusal: the node's task failed or was stopped (halt, deadline, shutdown) without an answer.</summary>
    public const string FederationNodeFailed = "SPE7062";

    /// <summary>403: the caller is not a data user the permit names by account, so no requester can be asserted to the peers.</summary>
    public const string FederationRequesterUnnamed = "SPE7063";

    /// <summary>gRPC INVALID_ARGUMENT: a task's <c>session</c> is not 16 to 64 lower-case hex digits.</summary>
    public const string FederationSessionMalformed = "SPE7064";

    /// <summary>400: the portal's sign-in did not complete (the sign-in was refused, took too long, or its state did not match): sign in again.</summary>
    public const string PortalSignInFailed = "SPE6400";

    /// <summary>415: the export's or import's file has no preview for output checkers: it is not a text file (CSV, TSV, text, Markdown, JSON) in UTF-8.</summary>
    public const string PortalPreviewNotText = "SPE6401";

    /// <summary>415: the export's or import's file has no image preview: its name is not a PNG, JPEG, GIF or WebP image, or its bytes are not the format its name says.</summary>
    public const string PortalPreviewNotImage = "SPE6402";

    /// <summary>422: the export's or import's image is larger than an image preview shows (4 MiB): the checker reads its automatic report.</summary>
    public const string PortalPreviewTooLarge = "SPE6403";

    /// <summary>403: project access needs a valid role-specific training record (OPR-23), and the person has none, or it expired.</summary>
    public const string TrainingRequired = "SPE8200";

    /// <summary>403: nobody records their own training.</summary>
    public const string TrainingOwnRecord = "SPE8201";
}
