using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Vault;

/// <summary>Vault log messages (SPE5xxx). Ids, fingerprints and counts only: never key material, PINs or data.</summary>
internal static partial class VaultLog
{
    [LoggerMessage(EventId = 14001, Level = LogLevel.Information, Message = "SPE14001 project {ProjectId} key created (fingerprint {Fingerprint}, backend {Backend}, master key {MasterKeyId})")]
    public static partial void ProjectKeyCreated(ILogger logger, string projectId, string fingerprint, string backend, string masterKeyId);

    [LoggerMessage(EventId = 14002, Level = LogLevel.Warning, Message = "SPE14002 project {ProjectId} key destroyed (fingerprint {Fingerprint}, backend {Backend}); its data is no longer readable")]
    public static partial void ProjectKeyDestroyed(ILogger logger, string projectId, string fingerprint, string backend);

    [LoggerMessage(EventId = 14003, Level = LogLevel.Error, Message = "SPE14003 project {ProjectId} key failed to unwrap (backend {Backend}, master key {MasterKeyId}): tampered, swapped or wrong master key")]
    public static partial void UnwrapFailed(ILogger logger, string projectId, string backend, string masterKeyId);

    [LoggerMessage(EventId = 14004, Level = LogLevel.Warning, Message = "SPE14004 master key rotated (backend {Backend}): now {MasterKeyId}, retired [{Retired}], {Count} project keys re-wrapped")]
    public static partial void MasterKeyRotated(ILogger logger, string backend, string masterKeyId, string retired, int count);

    [LoggerMessage(EventId = 14005, Level = LogLevel.Information, Message = "SPE14005 master key {MasterKeyId} created (backend {Backend})")]
    public static partial void MasterKeyCreated(ILogger logger, string backend, string masterKeyId);

    [LoggerMessage(EventId = 14010, Level = LogLevel.Warning, Message = "SPE14010 project {ProjectId} erased: key {Fingerprint} destroyed={KeyDestroyed}, {ObjectCount} objects ({Bytes} bytes) deleted")]
    public static partial void ProjectErased(ILogger logger, string projectId, string fingerprint, bool keyDestroyed, long objectCount, long bytes);
}
