namespace OpenSpe.Server.Api;

/// <summary>The generic <see cref="ErrorCodes"/> code of an HTTP status, for answers that carry no more specific one.</summary>
public static class ProblemCodes
{
    /// <summary>Maps a status code with no more specific error to its generic code.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => ErrorCodes.BadRequest,
        401 => ErrorCodes.Unauthenticated,
        403 => ErrorCodes.Forbidden,
        404 => ErrorCodes.NotFound,
        405 => ErrorCodes.MethodNotAllowed,
        410 => ErrorCodes.VersionSunset,
        423 => ErrorCodes.ProjectHalted,
        413 => ErrorCodes.BodyTooLarge,
        415 => ErrorCodes.UnsupportedMediaType,
        429 => ErrorCodes.RateLimited,
        503 => ErrorCodes.NotReady,
        507 => ErrorCodes.InsufficientStorage,
        _ => ErrorCodes.Internal,
    };
}
