using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Access;
using OpenSpe.Server.Api;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Permits;

/// <summary>The access chain's registration and its mappings to and from HTTP.</summary>
internal static class ProjectAccessSetup
{
    /// <summary>Registers the access chain over the database and the halt registry.</summary>
    public static IServiceCollection AddProjectAccess(this IServiceCollection services)
    {
        services.AddScoped<ProjectAccessSource>();
        services.AddScoped<IProjectAccessSource>(s => s.GetRequiredService<ProjectAccessSource>());
        services.AddSingleton<IProjectHalts, HaltRegistryHalts>();
        services.AddScoped<AccessChain>();
        return services;
    }

    /// <summary>
    /// The principal of a bearer token: an application by <c>client_id</c>, a person by <c>sub</c> (never by
    /// <c>preferred_username</c>) with their <c>role</c> claims, whether <c>amr</c> names a second factor, and the external provider's
    /// issuer and subject when they signed in through one.
    /// </summary>
    public static AccessPrincipal PrincipalOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (IdentitySetup.IsClient(user))
        {
            return AccessPrincipal.Application(user.FindFirst("client_id")?.Value);
        }

        var external = IdentitySetup.ExternalSignIn(user);
        return AccessPrincipal.Person(user.FindFirst("sub")?.Value, IdentitySetup.HasSecondFactor(user), user.FindAll("role").Select(c => c.Value),
            external?.Issuer, external?.Subject);
    }

    /// <summary>The stable error code of a refusal.</summary>
    public static string CodeOf(AccessRefusal refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return refusal.Kind switch
        {
            AccessRefusalKind.Hidden => ErrorCodes.NotFound,
            AccessRefusalKind.Halted => ErrorCodes.ProjectHalted,
            AccessRefusalKind.PermitNotInForce => ErrorCodes.PermitNotActive,
            AccessRefusalKind.HaltStateUnknown => ErrorCodes.HaltStateUnknown,
            AccessRefusalKind.TrainingMissing => ErrorCodes.TrainingRequired,
            _ => ErrorCodes.Forbidden,
        };
    }

    /// <summary>The halt registry as the chain's port.</summary>
    private sealed class HaltRegistryHalts(HaltRegistry halts) : IProjectHalts
    {
        public bool IsStale => halts.IsStale;

        public IProjectWork? TryBeginWork(string projectId) => halts.TryBeginWork(projectId) is { } work ? new Work(work) : null;

        private sealed class Work(HaltRegistry.ProjectWork work) : IProjectWork
        {
            public CancellationToken Halted => work.Halted;

            public void Dispose() => work.Dispose();
        }
    }
}
