using System.ComponentModel.DataAnnotations;
using System.Net;

namespace OpenSpe.Server.Monitoring;

/// <summary>Metrics settings (section <c>Metrics</c>).</summary>
internal sealed class MetricsOptions : IValidatableObject
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Metrics";

    /// <summary>Serve <c>/metrics</c> (Prometheus text format). On by default; only operators and the ranges below may read it.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Address ranges (CIDR, e.g. <c>10.0.5.0/24</c>) whose requests may read <c>/metrics</c> without a token: the
    /// monitoring system's scraper. Empty by default, so only a signed-in operator reads it.
    /// </summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>The parsed <see cref="AllowedNetworks"/>.</summary>
    public IReadOnlyList<IPNetwork> Networks() => AllowedNetworks.Select(n => IPNetwork.Parse(n.Trim())).ToList();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var network in AllowedNetworks)
        {
            if (!IPNetwork.TryParse(network?.Trim(), out _))
            {
                yield return new ValidationResult($"'{network}' is not an address range in CIDR notation (e.g. 10.0.5.0/24 or fd00::/64).", [nameof(AllowedNetworks)]);
            }
        }
    }
}
