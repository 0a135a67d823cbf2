using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Hosting;

/// <summary>Records the server's start in the audit log, and a change of its configuration since the last start (OPR-7).</summary>
internal sealed class ServerStartRecord : IModuleStart
{
    public int Order => ModuleStartOrder.ServerRecord;

    public async Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var database = services.GetRequiredService<SpeDatabase>();
        var server = services.GetRequiredService<IOptions<ServerOptions>>().Value;
        var audit = services.GetRequiredService<IAuditLog>();
        var fingerprint = ConfigurationFingerprint(services, database, server);
        await using var context = database.CreateDbContext();
        var stored = await context.ServerSettings.FirstOrDefaultAsync(s => s.Name == "config.fingerprint", cancellationToken);
        if (stored is not null && stored.Value != fingerprint)
        {
            await audit.AppendAsync(new AuditEntry(AuditActor.System, "config.changed", new AuditResource("configuration", null, null), AuditOutcome.Success, null, null,
                new Dictionary<string, string> { ["previous"] = stored.Value, ["current"] = fingerprint }), cancellationToken);
        }

        await audit.AppendAsync(new AuditEntry(AuditActor.System, "server.started", new AuditResource("server", null, null), AuditOutcome.Success, null, null,
            new Dictionary<string, string>
            {
                ["mode"] = server.Dev ? "dev" : "production",
                ["database"] = database.Describe(),
                ["urls"] = server.Urls,
                ["configFingerprint"] = fingerprint,
            }), cancellationToken);

        if (stored is null)
        {
            context.ServerSettings.Add(new ServerSettingEntity { Name = "config.fingerprint", Value = fingerprint });
        }
        else
        {
            stored.Value = fingerprint;
        }

        await context.SaveChangesAsync(cancellationToken);
    }

    private static string ConfigurationFingerprint(IServiceProvider services, SpeDatabase database, ServerOptions server)
    {
        // Only settings that change behaviour and hold no secret: the fingerprint is itself audited.
        var snapshot = new
        {
            server.Dev,
            server.Urls,
            Database = database.Describe(),
            Audit = services.GetRequiredService<IOptions<AuditOptions>>().Value,
            RateLimiting = services.GetRequiredService<IOptions<RateLimitOptions>>().Value,
            Tokens = services.GetRequiredService<IOptions<TokenOptions>>().Value,
            Api = services.GetRequiredService<IOptions<ApiVersionOptions>>().Value,
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(snapshot);
        return Convert.ToHexStringLower(SHA256.HashData(json))[..16];
    }
}
