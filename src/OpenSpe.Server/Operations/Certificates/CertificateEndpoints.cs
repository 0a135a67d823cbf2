using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Operations.Certificates;

/// <summary>
/// <c>GET /api/v1/operations/certificates</c> (OPR-6, TIR-13): the certificates the server presents — its TLS certificate and,
/// when federation is configured, the node's federation certificate — with subject, expiry and days left, each flagged
/// when fewer than <see cref="WarnDays"/> days are left. Operators and auditors only, as the rest of the operations evidence.
/// </summary>
internal static class CertificateEndpoints
{
    /// <summary>Days left under which a certificate is flagged: the window of the shipped <c>certificate-expiry</c> alert rule.</summary>
    public const int WarnDays = 14;

    /// <summary>Maps the endpoint.</summary>
    public static IEndpointRouteBuilder MapCertificateEndpoints(this IEndpointRouteBuilder routes)
    {
        // Note: deny by default: operators and auditors only; the certificates are public on the wire, but which ones are near
        // expiry tells an attacker when the service is fragile.
        routes.MapGet("/api/v1/operations/certificates", List).WithName("operations.certificates").WithTags("Operations")
            .RequireAuthorization(SpePolicies.OperationsReaders).WithMetadata(new AuditResourceAttribute("certificates")).ProducesSignedInProblems()
            .WithSummary("The server's TLS certificate and the federation certificate (when configured): subject, not-after, days left, flagged under 14 days.");
        return routes;
    }

    private static Ok<CertificateEvidenceView> List(IServiceProvider services, TimeProvider time)
    {
        var now = time.GetUtcNow();
        return TypedResults.Ok(new CertificateEvidenceView(WarnDays, PresentedCertificates.Of(services).Select(c => View(c.Name, c.Certificate, now)).ToList()));
    }

    /// <summary>One certificate as evidence at <paramref name="now"/>: whole days left (negative once expired), flagged under <see cref="WarnDays"/>.</summary>
    public static CertificateView View(string name, X509Certificate2 certificate, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var left = PresentedCertificates.Left(certificate, now);
        return new CertificateView(name, certificate.Subject, new DateTimeOffset(certificate.NotAfter.ToUniversalTime()), PresentedCertificates.WholeDays(left), left < TimeSpan.FromDays(WarnDays));
    }
}
