using System.Net;

namespace OpenSpe.Server.Hosting;

/// <summary>Parses listen URLs; only HTTPS is accepted, so no plain-HTTP listener can ever be configured (TIR-3).</summary>
internal static class ListenUrls
{
    /// <summary>Parses <c>https://host:port</c> entries separated by semicolons.</summary>
    /// <exception cref="FormatException">A URL is not HTTPS, or its host or port is not usable.</exception>
    public static IReadOnlyList<IPEndPoint> Parse(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        var result = new List<IPEndPoint>();
        foreach (var raw in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri))
            {
                throw new FormatException($"'{raw}' is not a URL");
            }

            if (uri.Scheme != Uri.UriSchemeHttps)
            {
                throw new FormatException($"'{raw}' is not HTTPS: the SPE never listens on plain HTTP");
            }

            var address = uri.Host switch
            {
                "localhost" => IPAddress.Loopback,
                "0.0.0.0" or "*" or "+" => IPAddress.Any,
                "[::]" => IPAddress.IPv6Any,
                _ => IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip : throw new FormatException($"'{uri.Host}' is not an IP address or localhost"),
            };
            result.Add(new IPEndPoint(address, uri.Port));
        }

        if (result.Count == 0)
        {
            throw new FormatException("no listen URL given");
        }

        return result;
    }
}
