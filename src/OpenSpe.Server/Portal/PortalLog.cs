using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Portal;

/// <summary>The portal's log events (20001–20099). Never a token, a password or data.</summary>
internal sealed partial class PortalLog
{
    [LoggerMessage(EventId = 20001, Level = LogLevel.Information, Message = "SPE20001 portal session of {Subject} ended: the account's session is no longer alive")]
    public static partial void SessionEnded(ILogger logger, string subject);

    [LoggerMessage(EventId = 20002, Level = LogLevel.Information, Message = "SPE20002 portal session of {Subject} ended: the token refresh was refused ({Status})")]
    public static partial void RefreshRefused(ILogger logger, string subject, int status);

    [LoggerMessage(EventId = 20003, Level = LogLevel.Warning, Message = "SPE20003 portal sign-in refused at the callback: {Reason}")]
    public static partial void CallbackRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 20004, Level = LogLevel.Information, Message = "SPE20004 portal sign-in of {Subject}")]
    public static partial void SignedIn(ILogger logger, string subject);
}
