using System.Net;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Portal;

/// <summary>
/// A server started again at another address (here another port; in production a new host name) still signs people in to
/// its portal: the portal application's stored redirect URI follows the server's address instead of keeping the first one.
/// </summary>
public sealed class PortalAddressChangeTests
{
    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task The_portal_signs_in_after_the_server_moves_to_another_address()
    {
        await using var first = await SpeTestServer.StartAsync();
        using (var before = new PortalBrowser(first))
        {
            using var _ = await before.SignInAsync("researcher");
        }

        var directory = first.DataDirectory;
        await first.StopKeepingDataAsync();
        await using var moved = await SpeTestServer.StartAsync(reuseDirectory: directory);
        using var portal = new PortalBrowser(moved);

        using var home = await portal.SignInAsync("researcher");

        Assert.NotEqual(first.BaseAddress.Port, moved.BaseAddress.Port);
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.Contains("Signed in as researcher", await home.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
