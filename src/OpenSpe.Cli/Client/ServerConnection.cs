using System.Net;
using System.Net.Security;
using System.Reflection;
using System.Security.Authentication;
using Polly;

namespace OpenSpe.Cli.Client;

/// <summary>
/// The HTTPS connection to one SPE server. TLS is verified against the system trust store, or,
/// with a pin, against exactly the pinned certificate; there is no way to switch verification off.
/// </summary>
internal sealed class ServerConnection : IDisposable
{
    private readonly HttpClient _http;
    private readonly TlsObservation _tls = new();

    /// <param name="server">Base address (see <see cref="ParseServer"/>).</param>
    /// <param name="pin">Normalised certificate pin, or null for the system trust store.</param>
    /// <param name="handler">Test seam: replaces the TLS handler (the fake servers in unit tests speak no TLS).</param>
    /// <param name="timeout">Per-request timeout.</param>
    public ServerConnection(Uri server, string? pin, HttpMessageHandler? handler = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
        Pin = pin;
        // An injected handler belongs to the test that made it.
        _http = new HttpClient(handler ?? CreateHandler(pin, _tls), disposeHandler: handler is null)
        {
            BaseAddress = server,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        var version = typeof(ServerConnection).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        _http.DefaultRequestHeaders.UserAgent.ParseAdd($"spe/{version.Split('+')[0]}");
    }

    public Uri Server { get; }

    public string? Pin { get; }

    /// <summary>
    /// Parses <c>--server</c>: an absolute https URL, optionally with a base path. Plain http is
    /// refused because the password and tokens would travel in clear.
    /// </summary>
    public static Uri ParseServer(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || string.IsNullOrEmpty(uri.Host))
        {
            throw new SpeUsageException($"--server must be an https:// URL such as https://spe.example.org:8443 (got '{Sanitize(value)}')");
        }

        if (uri.Scheme == Uri.UriSchemeHttp)
        {
            throw new SpeUsageException("--server must use https://: the SPE serves only HTTPS, and a password must not travel in clear");
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new SpeUsageException("--server must not contain credentials, a query or a fragment");
        }

        // A trailing slash makes relative paths ("connect/token") resolve under a base path.
        var builder = new UriBuilder(uri) { Path = uri.AbsolutePath.EndsWith('/') ? uri.AbsolutePath : uri.AbsolutePath + "/" };
        return builder.Uri;
    }

    /// <summary>Sends a request once; network and TLS failures become one readable <see cref="SpeClientException"/>.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);

    /// <summary>As <see cref="SendAsync(HttpRequestMessage, CancellationToken)"/>; <paramref name="completion"/> says whether the body is read before it returns.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await ExecuteAsync((_, token) => _http.SendAsync(request, completion, token), ResiliencePipeline<HttpResponseMessage>.Empty, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> (numbered from 0) as often as <paramref name="retry"/> allows and returns the last answer,
    /// whatever its status; a network or TLS failure that outlasts the retries becomes one readable <see cref="SpeClientException"/>.
    /// An attempt sends its requests with <see cref="SendAttemptAsync"/>.
    /// </summary>
    public async Task<HttpResponseMessage> ExecuteAsync(Func<int, CancellationToken, Task<HttpResponseMessage>> attempt, ResiliencePipeline<HttpResponseMessage> retry,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(retry);
        var number = 0;
        try
        {
            return await retry.ExecuteAsync(async token => await attempt(number++, token), cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new SpeClientException(Describe(ex), ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SpeClientException($"{Server.GetLeftPart(UriPartial.Authority)} did not answer within {_http.Timeout.TotalSeconds:0} s", ex);
        }
    }

    /// <summary>Sends <paramref name="request"/> (and disposes it) within an attempt of <see cref="ExecuteAsync"/>, which handles its failures.</summary>
    public async Task<HttpResponseMessage> SendAttemptAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using (request)
        {
            return await _http.SendAsync(request, cancellationToken);
        }
    }

    public void Dispose() => _http.Dispose();

    internal static string Sanitize(string value) => string.Concat(value.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    private static SocketsHttpHandler CreateHandler(string? pin, TlsObservation tls) => new()
    {
        SslOptions =
        {
            // The callback replaces the default check, so it must do the default check itself when nothing is pinned.
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                tls.Errors = errors;
                tls.Presented = certificate is null ? null : CertificatePin.Of(certificate);
                return pin is null ? errors == SslPolicyErrors.None : CertificatePin.Matches(certificate, pin);
            },
        },
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        // Note: how long a request with Expect: 100-continue (a tus body) waits for the server's go-ahead or refusal before it
        // sends the body anyway; longer than the default second, so a busy server's refusal still comes before the body.
        Expect100ContinueTimeout = TimeSpan.FromSeconds(3),
        ConnectTimeout = TimeSpan.FromSeconds(15),
        AllowAutoRedirect = false,
    };

    private string Describe(HttpRequestException ex)
    {
        var authority = Server.GetLeftPart(UriPartial.Authority);
        if (ex.InnerException is AuthenticationException || ex.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            if (Pin is not null)
            {
                return _tls.Presented is null
                    ? $"refusing {authority}: TLS handshake failed before a certificate could be checked against the pin"
                    : $"refusing {authority}: its TLS certificate (SHA-256 {_tls.Presented}) does not match the pinned --ca-fingerprint {Pin}";
            }

            return _tls.Presented is null
                ? $"refusing {authority}: TLS handshake failed ({ProblemText.Clause(ex.InnerException?.Message ?? ex.Message)})"
                : $"refusing {authority}: its TLS certificate is not trusted by the system store ({_tls.Errors}); "
                    + $"if its SHA-256 {_tls.Presented} equals the 'TLS SHA-256' that 'spe server' printed, pass it as --ca-fingerprint";
        }

        // Followed by "; retrying ..." or "; gave up ...": without its full stop.
        return $"cannot reach {authority}: {ProblemText.Clause(ex.Message)}";
    }

    /// <summary>What the last handshake presented, so a refusal can say why.</summary>
    private sealed class TlsObservation
    {
        public string? Presented { get; set; }

        public SslPolicyErrors Errors { get; set; }
    }
}
