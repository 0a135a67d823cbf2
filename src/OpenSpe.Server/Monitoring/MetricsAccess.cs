using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Monitoring;

/// <summary>
/// Who reads <c>/metrics</c>: an operator signed in with a second factor, or a request from a configured scraper range
/// (TIR-13). Metrics carry no project data, but their labels name sign-in refusal reasons and volumes an attacker would
/// like to watch, so they are not public.
/// </summary>
internal static class MetricsAccess
{
    /// <summary>The policy name.</summary>
    public const string Policy = "metrics-readers";

    /// <summary>The policy: no authenticated user is required, so that an allowed scraper needs no token.</summary>
    public static AuthorizationPolicy Build(IReadOnlyList<IPNetwork> networks) =>
        new AuthorizationPolicyBuilder(IdentitySetup.BearerSelector)
            .RequireAssertion(c => FromAllowedNetwork(c.Resource as HttpContext, networks)
                || (c.User.Identity?.IsAuthenticated == true && IdentitySetup.HasSecondFactor(c.User) && c.User.IsInRole(SpeRoles.Operator)))
            .Build();

    private static bool FromAllowedNetwork(HttpContext? context, IReadOnlyList<IPNetwork> networks)
    {
        var address = context?.Connection.RemoteIpAddress;
        if (address is null || networks.Count == 0)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return networks.Any(n => n.Contains(address));
    }
}
