using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace OpenSpe.Server.Audit;

/// <summary>
/// Witnesses the server pushes every new checkpoint to (<c>Audit:Witnesses:*</c>): files that
/// belong on another volume, and HTTPS endpoints that receive the checkpoint as a JSON POST.
/// </summary>
internal sealed class AuditWitnessOptions
{
    /// <summary>Absolute paths of witness files (JSON Lines); their directories must exist.</summary>
    public List<string> Files { get; set; } = [];

    /// <summary>HTTPS endpoints that receive each checkpoint.</summary>
    public List<AuditWitnessEndpointOptions> Endpoints { get; set; } = [];

    /// <summary>How long one push to an endpoint may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks the settings; each problem names its configuration key.</summary>
    public IEnumerable<ValidationResult> Validate()
    {
        if (Timeout < TimeSpan.FromMilliseconds(100) || Timeout > TimeSpan.FromMinutes(5))
        {
            yield return new ValidationResult("Audit:Witnesses:Timeout must be between 100 ms and 5 minutes.");
        }

        for (var i = 0; i < Files.Count; i++)
        {
            var path = Files[i];
            var key = string.Create(CultureInfo.InvariantCulture, $"Audit:Witnesses:Files:{i}");
            if (string.IsNullOrWhiteSpace(path) || !Path.IsPathFullyQualified(path))
            {
                yield return new ValidationResult($"{key} must be an absolute file path (got '{path}').");
            }
            else if (Directory.Exists(path))
            {
                yield return new ValidationResult($"{key} is a directory; name a file in it (got '{path}').");
            }
            else if (!Directory.Exists(Path.GetDirectoryName(path)))
            {
                yield return new ValidationResult($"{key}: the directory of '{path}' does not exist.");
            }
        }

        for (var i = 0; i < Endpoints.Count; i++)
        {
            var endpoint = Endpoints[i];
            var key = string.Create(CultureInfo.InvariantCulture, $"Audit:Witnesses:Endpoints:{i}");
            if (!Uri.TryCreate(endpoint.Url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || !string.IsNullOrEmpty(uri.UserInfo))
            {
                yield return new ValidationResult($"{key}:Url must be an absolute https:// URL without credentials (got '{endpoint.Url}').");
            }

            if (endpoint.CertificateSha256 is { } pin && AuditWitnessEndpointOptions.NormalisePin(pin) is null)
            {
                yield return new ValidationResult($"{key}:CertificateSha256 must be 64 hex digits (colons allowed).");
            }
        }
    }
}

/// <summary>One HTTPS witness.</summary>
internal sealed class AuditWitnessEndpointOptions
{
    /// <summary>Where the checkpoint is POSTed.</summary>
    public string Url { get; set; } = "";

    /// <summary>SHA-256 of the endpoint's certificate to pin; without it the system trust store decides.</summary>
    public string? CertificateSha256 { get; set; }

    /// <summary>The pin as 64 lower-case hex digits, or null when it is not one.</summary>
    public static string? NormalisePin(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var hex = value.Replace(":", "", StringComparison.Ordinal).Trim().ToLowerInvariant();
        return hex.Length == 64 && hex.All(Uri.IsHexDigit) ? hex : null;
    }
}
