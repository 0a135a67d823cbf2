namespace OpenSpe.Server.Api;

/// <summary>The generic <see cref="ErrorCodes"/> code of an HTTP status, for answers that carry no more specific one.</summary>
internal static class ProblemCodes
{
    /// <summary>Maps a status code with no more specific error to its generic code.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => ErrorCodes.BadRequest,
        401 => ErrorCodes.Unauthenticated,
        403 => ErrorCodes.Forbidden,
        404 => ErrorCodes.NotFound,
        405 => ErrorCodes.MethodNotAllowed,
        409 => ErrorCodes.Conflict,
        410 => ErrorCodes.VersionSunset,
        412 => ErrorCodes.PreconditionFailed,
        413 => ErrorCodes.BodyTooLarge,
        415 => ErrorCodes.UnsupportedMediaType,
        422 => ErrorCodes.UnprocessableContent,
        423 => ErrorCodes.ProjectHalted,
        429 => ErrorCodes.RateLimited,
        460 => ErrorCodes.UploadChecksumMismatch,
        503 => ErrorCodes.NotReady,
        507 => ErrorCodes.InsufficientStorage,
        _ => ErrorCodes.Internal,
    };
}
