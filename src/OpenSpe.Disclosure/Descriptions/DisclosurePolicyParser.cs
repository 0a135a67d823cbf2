using System.Text.Json;

namespace OpenSpe.Disclosure.Descriptions;

/// <summary>Reads a policy: the same JSON object as a permit's <c>policies.airlock</c>.</summary>
public static class DisclosurePolicyParser
{
    // Note: reviewersRequired belongs to the airlock object too; it is accepted (so a permit's object can be passed as it is)
    // and ignored, because it governs the human review, not the automatic checks.
    private static readonly string[] Fields =
        ["threshold", "dominanceN", "dominanceK", "pPercent", "kAnonymity", "lDiversity", "zerosAllowed", "minResidualDf", "reviewersRequired"];

    /// <summary>Parses <paramref name="json"/>; unknown fields, wrong types and values out of range throw <see cref="DescriptionException"/>.</summary>
    public static DisclosurePolicy Parse(string json)
    {
        using var document = StrictJson.Parse(json, "The policy");
        var root = document.RootElement;
        StrictJson.Object(root, "policy");
        StrictJson.OnlyFields(root, "policy", Fields);
        var d = DisclosurePolicy.Default;
        var policy = new DisclosurePolicy
        {
            Threshold = Int(root, "threshold") ?? d.Threshold,
            DominanceN = Int(root, "dominanceN") ?? d.DominanceN,
            DominanceK = StrictJson.Number(root, "policy", "dominanceK") ?? d.DominanceK,
            PPercent = StrictJson.Number(root, "policy", "pPercent") ?? d.PPercent,
            KAnonymity = Int(root, "kAnonymity") ?? d.KAnonymity,
            LDiversity = Int(root, "lDiversity") ?? d.LDiversity,
            ZerosAllowed = StrictJson.Boolean(root, "policy", "zerosAllowed") ?? d.ZerosAllowed,
            MinResidualDf = Int(root, "minResidualDf") ?? d.MinResidualDf,
        };
        _ = Int(root, "reviewersRequired");
        var errors = policy.Validate();
        return errors.Count == 0 ? policy : throw new DescriptionException("policy: " + string.Join(" ", errors));
    }

    private static int? Int(JsonElement root, string name) =>
        StrictJson.Integer(root, "policy", name, required: false) is { } n
            ? n is >= int.MinValue and <= int.MaxValue ? (int)n : throw new DescriptionException($"policy.{name} is out of range.")
            : null;
}
