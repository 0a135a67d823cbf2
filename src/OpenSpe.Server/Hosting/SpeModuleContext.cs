using System.Net;
using Microsoft.Extensions.Configuration;

namespace OpenSpe.Server.Hosting;

/// <summary>
/// What a module's registration reads: the configuration, and the host's facts it was built on. Keys and
/// token issuers are loaded while services are registered (OpenIddict takes its keys then), so a module needs the
/// data directory and the listening addresses, not only <see cref="IConfiguration"/>.
/// </summary>
/// <param name="Configuration">The server's configuration.</param>
/// <param name="Directory">The locked data directory.</param>
/// <param name="Endpoints">The HTTPS addresses the server listens on.</param>
internal sealed record SpeModuleContext(IConfiguration Configuration, DataDirectory Directory, IReadOnlyList<IPEndPoint> Endpoints);
