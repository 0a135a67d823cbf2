using OpenSpe.Core.Identity;

namespace OpenSpe.Core.Access.Handlers;

/// <summary>
/// A person reaches a project only with a valid training record for the role they act in (OPR-23), when the configuration
/// requires it: a member for a permit role the action allows, oversight for their oversight role, a reviewer as output checker.
/// </summary>
public sealed class TrainingHandler(ITrainingRecords? training, TimeProvider time) : IAccessHandler
{
    /// <inheritdoc />
    public async ValueTask<AccessRefusal?> HandleAsync(AccessContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return training is null || !training.Required
            ? null
            : await CheckAsync(training, context.Request.Principal, ActingRoles(context), time, cancellationToken);
    }

    /// <summary>
    /// The same step for a person acting in <paramref name="roles"/> outside one project (a list across projects, a review
    /// queue): null when no training is required, the principal is an application, or the person's training is valid.
    /// </summary>
    public static async ValueTask<AccessRefusal?> CheckAsync(ITrainingRecords? training, AccessPrincipal principal, IReadOnlyCollection<string> roles, TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(roles);
        ArgumentNullException.ThrowIfNull(time);
        // Note: an application is not a person and takes no course; the HDAB names it in a permit for a reviewed purpose.
        if (training is null || !training.Required || principal.IsApplication)
        {
            return null;
        }

        // Note: fail closed: a person with no account id, or acting in no role we can name, cannot show training.
        var standing = principal.AccountId is null || roles.Count == 0
            ? TrainingStanding.Missing
            : await training.StandingAsync(principal.AccountId, roles, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime), cancellationToken);
        return standing == TrainingStanding.Valid ? null : Refusal(standing, roles);
    }

    /// <summary>The refusal for a person whose training is missing or expired, naming the roles and whom to ask.</summary>
    public static AccessRefusal Refusal(TrainingStanding standing, IReadOnlyCollection<string> roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var named = roles.Count == 0 ? "your role" : "the role " + string.Join(" or ", roles.Order(StringComparer.Ordinal));
        var what = standing == TrainingStanding.Expired
            ? $"Your training for {named} has expired."
            : $"No completed training is recorded for you in {named}.";
        return new(AccessRefusalKind.TrainingMissing, standing == TrainingStanding.Expired ? "training-expired" : "training-missing",
            what + " This SPE requires role-specific training before project access (OPR-23): ask your HDAB officer or an SPE admin to record it.");
    }

    private static IReadOnlyCollection<string> ActingRoles(AccessContext context)
    {
        if (context.AsReviewer)
        {
            return [SpeRoles.OutputChecker];
        }

        if (context.AsOversight)
        {
            return [.. SpeRoles.Oversight.Where(context.Request.Principal.Roles.Contains)];
        }

        return [.. context.Action.MemberRoles.Where(context.MemberRoles.Contains)];
    }
}
