using OpenSpe.Server.Federation;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>A permit's <c>approvedComponents</c> entry for a built-in federated component as this build runs it (FCR-4).</summary>
internal static class ApprovedComponent
{
    /// <summary>This build's runner identity; the test build always embeds the runner's manifest.</summary>
    public static FederatedComponentIdentity Identity =>
        FederatedComponentIdentity.Runner ?? throw new InvalidOperationException("the server assembly has no runner manifest; build the server, which embeds it");

    /// <summary>The entry for <paramref name="name"/> with this build's version and runner SHA-256, read from the server's code.</summary>
    public static object Of(string name) => new { name, version = Identity.Version, sha256 = Identity.Sha256 };

    /// <summary>An entry for <paramref name="name"/> with a version and SHA-256 this build does not run.</summary>
    public static object Other(string name, string? version = null, string? sha256 = null) =>
        new { name, version = version ?? Identity.Version, sha256 = sha256 ?? new string(Identity.Sha256[0] == 'a' ? 'b' : 'a', 64) };
}
