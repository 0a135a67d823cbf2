using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Core.Permits;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.Federation;

/// <summary>
/// A signed permit as a node verified it: who signed it, which permit and version, its state then, and the document; and the
/// federation node that coordinates it (<paramref name="Coordinator"/>: the trusted issuer's <see cref="TrustedPermitIssuer.Node"/>,
/// or null for a permit this SPE's own HDAB signed, which only this SPE coordinates).
/// </summary>
internal sealed record FederatedPermit(string Issuer, string PermitId, int Version, string State, PermitDocument Document, string? Coordinator = null);

/// <summary>
/// Verifies a permit document signed as a compact JWS (ES256, <c>typ</c> <c>openspe-permit+jws</c>, as
/// <c>GET /api/v1/permits/{id}/document</c> returns it) against the issuers this node trusts
/// (<see cref="FederationOptions.TrustedPermitIssuers"/>, and this SPE's own permit key) (FSPER-2, FSPER-3).
/// </summary>
internal sealed class FederatedPermitVerifier : IDisposable
{
    /// <summary>The JWS type of a signed permit.</summary>
    public const string PermitType = "openspe-permit+jws";

    private readonly Dictionary<string, (IReadOnlyList<SecurityKey> Keys, string? Coordinator, IssuerKeysUrl? Remote)> _issuers = new(StringComparer.Ordinal);
    private readonly JsonWebTokenHandler _handler = new();

    public FederatedPermitVerifier(IOptions<FederationOptions> options, IOptions<Identity.TokenOptions> tokens, PermitSigningKey own, TimeProvider time,
        ILogger<FederatedPermitVerifier> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(own);
        foreach (var trusted in options.Value.TrustedPermitIssuers)
        {
            // Note: an entry without a node (start-up validation refuses one) is coordinated by no peer rather than by this SPE.
            if (!string.IsNullOrWhiteSpace(trusted.KeysUrl))
            {
                _issuers[trusted.Issuer] = ([], trusted.Node ?? "", new IssuerKeysUrl(trusted.Issuer, trusted.KeysUrl, trusted.KeysCertificateFingerprint!, time, logger));
                continue;
            }

            var jwks = trusted.Keys ?? File.ReadAllText(trusted.KeysFile!);
            _issuers[trusted.Issuer] = ([.. new JsonWebKeySet(jwks).GetSigningKeys()], trusted.Node ?? "", null);
        }

        // Note: this SPE's own issuer is set last, so a trusted entry naming it can neither replace this SPE's key nor hand the
        // coordination of its permits to a peer: they are coordinated here (null) and nowhere else.
        if (tokens.Value.Issuer is { Length: > 0 } self)
        {
            _issuers[self] = ([own.SecurityKey], null, null);
        }
    }

    /// <summary>The issuers trusted here.</summary>
    public IReadOnlyCollection<string> Issuers => _issuers.Keys;

    /// <summary>Verifies <paramref name="jws"/>; null with a reason when it is not a permit this node trusts.</summary>
    public async Task<(FederatedPermit? Permit, string? Refusal)> VerifyAsync(string jws)
    {
        if (string.IsNullOrWhiteSpace(jws) || jws.Length > 256 * 1024 || !_handler.CanReadToken(jws))
        {
            return (null, "the permit is not a compact JWS");
        }

        JsonWebToken unverified;
        try
        {
            unverified = _handler.ReadJsonWebToken(jws);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException or JsonException)
        {
            return (null, "the permit is not a compact JWS");
        }

        if (!unverified.TryGetPayloadValue<string>("iss", out var issuer) || !_issuers.TryGetValue(issuer, out var trusted))
        {
            return (null, "the permit's issuer is not trusted by this node");
        }

        var keys = trusted.Keys;
        if (trusted.Remote is { } remote)
        {
            keys = await remote.KeysForAsync(string.IsNullOrEmpty(unverified.Kid) ? null : unverified.Kid);
            if (keys.Count == 0)
            {
                // Note: fail closed: an issuer whose keys cannot be fetched (unreachable, wrong certificate, garbage) vouches for nothing.
                return (null, "the permit's signature cannot be checked: its issuer's keys could not be fetched from its KeysUrl");
            }
        }

        // Note: the signature is checked with the keys of the issuer the document names, and only those, because a key
        // trusted for one HDAB must not vouch for a document claiming another.
        var result = await _handler.ValidateTokenAsync(jws, new TokenValidationParameters
        {
            ValidIssuer = issuer,
            IssuerSigningKeys = keys,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
            ValidTypes = [PermitType],
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        });
        if (!result.IsValid)
        {
            return (null, "the permit's signature does not verify");
        }

        try
        {
            var payload = Base64UrlEncoder.DecodeBytes(((JsonWebToken)result.SecurityToken).EncodedPayload);
            var signed = JsonSerializer.Deserialize<SignedPermitPayload>(payload, PermitService.DocumentJson);
            if (signed?.Permit is null || string.IsNullOrEmpty(signed.PermitId) || string.IsNullOrEmpty(signed.State))
            {
                return (null, "the signed permit lacks its document, id or state");
            }

            return (new FederatedPermit(issuer, signed.PermitId, signed.Version, signed.State, signed.Permit, trusted.Coordinator), null);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException)
        {
            return (null, "the signed permit's payload is not a permit");
        }
    }

    public void Dispose()
    {
        foreach (var (_, _, remote) in _issuers.Values)
        {
            remote?.Dispose();
        }
    }

    private sealed record SignedPermitPayload(string? Iss, string? PermitId, string? ProjectId, int Version, string? State, PermitDocument? Permit);
}
