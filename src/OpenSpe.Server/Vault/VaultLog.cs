using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Vault;

/// <summary>Vault log messages (SPE5xxx). Ids, fingerprints and counts only: never key material, PINs or data.</summary>
internal static partial class VaultLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "SPE5001 project {ProjectId} key created (fingerprint {Fingerprint}, backend {Backend}, master key {MasterKeyId})")]
    public static partial void ProjectKeyCreated(ILogger logger, string projectId, string fingerprint, string backend, string masterKeyId);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "SPE5002 project {ProjectId} key destroyed (fingerprint {Fingerprint}, backend {Backend}); its data is no longer readable")]
    public static partial void ProjectKeyDestroyed(ILogger logger, string projectId, string fingerprint, string backend);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "SPE5003 project {ProjectId} key failed to unwrap (backend {Backend}, master key {MasterKeyId}): tampered, swapped or wrong master key")]
    public static partial void UnwrapFailed(ILogger logger, string projectId, string backend, string masterKeyId);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "SPE5004 master key rotated (backend {Backend}): now {MasterKeyId}, retired [{Retired}], {Count} project keys re-wrapped")]
    public static partial void MasterKeyRotated(ILogger logger, string backend, string masterKeyId, string retired, int count);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "SPE5005 master key {MasterKeyId} created (backend {Backend})")]
    public static partial void MasterKeyCreated(ILogger logger, string backend, string masterKeyId);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "SPE5010 project {ProjectId} erased: key {Fingerprint} destroyed={KeyDestroyed}, {ObjectCount} objects ({Bytes} bytes) deleted")]
    public static partial void ProjectErased(ILogger logger, string projectId, string fingerprint, bool keyDestroyed, long objectCount, long bytes);
}
