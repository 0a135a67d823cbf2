using OpenSpe.Core.Permits;
using OpenSpe.Disclosure;

namespace OpenSpe.Server.Airlock;

/// <summary>The permit's <c>policies.airlock</c> as the disclosure library's policy: every parameter, none left to a default.</summary>
internal static class AirlockPolicy
{
    /// <summary>The disclosure policy of <paramref name="rules"/> (the permit's defaults where the permit is silent).</summary>
    public static DisclosurePolicy Of(PermitAirlockRules? rules)
    {
        var r = rules ?? new PermitAirlockRules();
        return new DisclosurePolicy
        {
            Threshold = r.Threshold,
            DominanceN = r.DominanceN,
            DominanceK = r.DominanceK,
            PPercent = r.PPercent,
            KAnonymity = r.KAnonymity,
            LDiversity = r.LDiversity,
            ZerosAllowed = r.ZerosAllowed,
            MinResidualDf = r.MinResidualDf,
        };
    }
}
