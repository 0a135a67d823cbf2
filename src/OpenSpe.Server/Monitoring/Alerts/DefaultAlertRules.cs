namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>The rules in force unless <c>Alerts:Defaults</c> is false (EHDSR-9, TIR-13, TIR-27); a configured rule of the same name replaces one.</summary>
internal static class DefaultAlertRules
{
    /// <summary>The name of the rule that fires when an audit record cannot be written (not an audit rule: the log is what failed).</summary>
    public const string AuditWriteFailure = "audit-write-failure";

    /// <summary>The shipped rules; <paramref name="options"/> gives the disk reserve.</summary>
    public static IReadOnlyList<AlertRule> Create(AlertOptions options) =>
    [
        new()
        {
            Name = "signin-failures-per-account", Action = "auth.signin", Outcome = "denied", GroupBy = AlertGroup.Account, Threshold = 5,
            Window = TimeSpan.FromMinutes(15), Description = "Repeated failed sign-ins for one account: password guessing or a locked-out person.",
        },
        new()
        {
            Name = "signin-failures-per-source", Action = "auth.signin", Outcome = "denied", GroupBy = AlertGroup.Source, Threshold = 20,
            Window = TimeSpan.FromMinutes(15), Description = "Repeated failed sign-ins from one address: password spraying across accounts.",
        },
        new()
        {
            Name = "second-factor-failures", Action = "auth.signin", Outcome = "denied", GroupBy = AlertGroup.Account, Threshold = 3,
            Reasons = ["otp-required", "otp-invalid", "otp-replayed", "recovery-code-invalid"], Window = TimeSpan.FromMinutes(15),
            Description = "The right password with wrong one-time codes: someone may hold this person's password.",
        },
        new()
        {
            Name = "rate-limit-storm", Action = "*", HttpStatus = 429, GroupBy = AlertGroup.Source, SumDetail = "refused", Threshold = 100,
            Window = TimeSpan.FromMinutes(5), Description = "A flood of requests refused by the rate limiter from one address.",
        },
        new()
        {
            Name = "export-volume-per-person", Action = "exports.download", Details = new() { ["stream"] = "closed" }, SumDetail = "bytes",
            GroupBy = AlertGroup.Account, Threshold = 1L << 30, Window = TimeSpan.FromDays(1),
            Description = "One person downloaded more than 1 GiB of released outputs within a day.",
        },
        new()
        {
            Name = "clipboard-drops", Action = "*.clipboard.*.dropped", GroupBy = AlertGroup.Account, Threshold = 5, Window = TimeSpan.FromHours(1),
            Description = "Repeated clipboard transfers the permit does not allow: someone is trying to move data past the airlock.",
        },
        new()
        {
            Name = "federation-peer-refused", Action = Federation.FederationAudit.PeerRefused, GroupBy = AlertGroup.Source, Threshold = 10,
            Window = TimeSpan.FromMinutes(15), Description = "A federation peer (or something posing as one) was refused repeatedly: a revoked, expired or unknown certificate, or probing.",
        },
        new()
        {
            Name = "disk-free-reserve", Check = AlertCheck.DiskFree, GroupBy = AlertGroup.None, Threshold = options.DiskReserveBytes, Window = TimeSpan.FromDays(1),
            Description = "Free space on the data directory's volume fell below the reserve: uploads and the audit log will soon fail.",
        },
        new()
        {
            Name = "certificate-expiry", Check = AlertCheck.CertificateExpiry, GroupBy = AlertGroup.None, Threshold = 1, Window = TimeSpan.FromDays(14),
            Description = "A certificate (the server's TLS or the federation node's) expires within 14 days: renew it before clients and peers refuse it.",
        },
        new()
        {
            Name = "witness-stale", Check = AlertCheck.WitnessAge, GroupBy = AlertGroup.None, Threshold = 1, Window = TimeSpan.FromDays(1),
            Description = "An audit witness was not written for a day: checkpoints are not leaving the server, so a rewritten log would go unnoticed.",
        },
    ];
}
