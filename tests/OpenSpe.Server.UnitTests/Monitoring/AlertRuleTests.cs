using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Monitoring.Alerts;

namespace OpenSpe.Server.UnitTests.Monitoring;

/// <summary>The shipped alert rules fire on their condition, on a clock the test drives (EHDSR-9, TIR-13, TIR-27).</summary>
public sealed class AlertRuleTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public void Five_failed_sign_ins_of_one_account_within_15_minutes_fire_once()
    {
        var alerts = Evaluator();

        for (var i = 0; i < 4; i++)
        {
            alerts.Committed(SignIn("alice", "203.0.113.7", "password-invalid"), 1, TimeSpan.Zero);
            _clock.Advance(TimeSpan.FromMinutes(3));
        }

        Assert.Empty(Drain(alerts));
        alerts.Committed(SignIn("alice", "203.0.113.7", "password-invalid"), 1, TimeSpan.Zero);
        var fired = Assert.Single(Drain(alerts), a => a.Rule == "signin-failures-per-account");
        Assert.Equal("alice", fired.Key);
        Assert.Equal(5, fired.Value);
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public void Failures_spread_wider_than_the_window_do_not_fire()
    {
        var alerts = Evaluator();

        for (var i = 0; i < 10; i++)
        {
            alerts.Committed(SignIn("alice", "203.0.113.7", "password-invalid"), 1, TimeSpan.Zero);
            _clock.Advance(TimeSpan.FromMinutes(4));
        }

        Assert.DoesNotContain(Drain(alerts), a => a.Rule == "signin-failures-per-account");
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public void Three_wrong_one_time_codes_fire_the_second_factor_rule_and_not_the_password_rule()
    {
        var alerts = Evaluator();

        alerts.Committed(SignIn("bob", "198.51.100.1", "otp-invalid"), 1, TimeSpan.Zero);
        alerts.Committed(SignIn("bob", "198.51.100.1", "otp-replayed"), 1, TimeSpan.Zero);
        alerts.Committed(SignIn("bob", "198.51.100.1", "otp-invalid"), 1, TimeSpan.Zero);

        Assert.Equal(["second-factor-failures"], Drain(alerts).Select(a => a.Rule));
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public void Twenty_failures_from_one_address_across_accounts_fire_the_source_rule()
    {
        var alerts = Evaluator();

        for (var i = 0; i < 20; i++)
        {
            alerts.Committed(SignIn($"user{i}", "192.0.2.9", "unknown-user"), 1, TimeSpan.Zero);
        }

        var fired = Assert.Single(Drain(alerts));
        Assert.Equal(("signin-failures-per-source", "192.0.2.9"), (fired.Rule, fired.Key));
    }

    [Fact]
    [Trait("Requirement", "TIR-27")]
    public void A_rate_limit_summary_counts_its_refusals()
    {
        var alerts = Evaluator();

        alerts.Committed(Record("rate-limit.summary", "system", "192.0.2.50", AuditOutcome.Denied, 429, ("refused", "99")), 1, TimeSpan.Zero);
        Assert.Empty(Drain(alerts));
        alerts.Committed(Record("http.get /api/v1/permits", null, "192.0.2.50", AuditOutcome.Denied, 429), 1, TimeSpan.Zero);

        Assert.Equal(["rate-limit-storm"], Drain(alerts).Select(a => a.Rule));
    }

    [Fact]
    [Trait("Requirement", "TIR-27")]
    public void More_than_a_gibibyte_of_exports_in_a_day_by_one_person_fires()
    {
        var alerts = Evaluator();

        alerts.Committed(Record("exports.download", "carol", "10.0.0.5", AuditOutcome.Success, 200, ("stream", "closed"), ("bytes", (700L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture))), 1, TimeSpan.Zero);
        _clock.Advance(TimeSpan.FromHours(20));
        alerts.Committed(Record("exports.download", "carol", "10.0.0.5", AuditOutcome.Success, 200, ("stream", "opened")), 1, TimeSpan.Zero);
        Assert.Empty(Drain(alerts));
        alerts.Committed(Record("exports.download", "carol", "10.0.0.5", AuditOutcome.Success, 200, ("stream", "closed"), ("bytes", (400L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture))), 1, TimeSpan.Zero);

        var fired = Assert.Single(Drain(alerts));
        Assert.Equal(("export-volume-per-person", "carol", 1100L << 20), (fired.Rule, fired.Key, fired.Value));
    }

    [Fact]
    [Trait("Requirement", "TIR-25")]
    public void Five_dropped_clipboard_attempts_in_an_hour_fire()
    {
        var alerts = Evaluator();

        for (var i = 0; i < 5; i++)
        {
            alerts.Committed(Record(i % 2 == 0 ? "desktop.clipboard.out.dropped" : "terminal.clipboard.in.dropped", "dave", "10.0.0.6", AuditOutcome.Denied, null), 1, TimeSpan.Zero);
        }

        Assert.Equal(["clipboard-drops"], Drain(alerts).Select(a => a.Rule));
    }

    [Fact]
    [Trait("Requirement", "TIR-27")]
    public void A_failed_audit_write_fires_at_once_and_at_most_once_a_minute()
    {
        var alerts = Evaluator();

        alerts.Failed(SignIn("x", "1.2.3.4", "password-invalid"));
        alerts.Failed(SignIn("x", "1.2.3.4", "password-invalid"));
        _clock.Advance(TimeSpan.FromMinutes(1));
        alerts.Failed(SignIn("x", "1.2.3.4", "password-invalid"));

        Assert.Equal(["audit-write-failure", "audit-write-failure"], Drain(alerts).Select(a => a.Rule));
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public void The_alerts_own_records_are_never_counted()
    {
        var alerts = Evaluator(new AlertOptions { Defaults = false, Rules = [new AlertRule { Name = "anything", Action = "*", GroupBy = AlertGroup.None, Threshold = 1 }] });

        alerts.Committed(Record("security.alert", "system", null, AuditOutcome.Denied, null) with { Resource = new AuditResource(AlertDispatcher.RuleResource, "anything", null) }, 1, TimeSpan.Zero);

        Assert.Empty(Drain(alerts));
    }

    [Fact]
    [Trait("Requirement", "OPR-2")]
    [Trait("Requirement", "TIR-13")]
    public void A_security_record_a_module_wrote_is_handed_on_once_as_recorded_and_never_counted()
    {
        var alerts = Evaluator(new AlertOptions { Defaults = false, Rules = [new AlertRule { Name = "anything", Action = "*", GroupBy = AlertGroup.None, Threshold = 1 }] });
        var grant = Record("security.alert", "admin", null, AuditOutcome.Success, null, ("kind", "high-privilege-grant-requested"), ("role", "operator"))
            with
        { Resource = new AuditResource("account", "u-42", null) };

        alerts.Committed(grant, 17, TimeSpan.Zero);

        var notice = Assert.Single(Drain(alerts));
        Assert.Equal(("high-privilege-grant-requested", "account", "u-42", 17L), (notice.Rule, notice.GroupBy, notice.Key, notice.RecordedAs));
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public void A_configured_rule_replaces_the_default_of_its_name()
    {
        var alerts = Evaluator(new AlertOptions
        {
            Rules = [new AlertRule { Name = "signin-failures-per-account", Action = "auth.signin", Outcome = "denied", Threshold = 2, Window = TimeSpan.FromMinutes(1) }],
        });

        alerts.Committed(SignIn("erin", "10.1.1.1", "password-invalid"), 1, TimeSpan.Zero);
        alerts.Committed(SignIn("erin", "10.1.1.1", "password-invalid"), 1, TimeSpan.Zero);

        Assert.Equal(1, alerts.Rules.Count(r => r.Name == "signin-failures-per-account"));
        Assert.Equal(2, Assert.Single(Drain(alerts)).Value);
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public void Keys_beyond_the_bound_share_one_count()
    {
        var rule = new AlertRule { Name = "bounded", Action = "*", Threshold = 1000, Window = TimeSpan.FromHours(1) };
        var windows = new AlertWindows(rule, maxKeys: 100);

        for (var i = 0; i < 5000; i++)
        {
            windows.Add("key" + i, 1, _clock.GetUtcNow());
        }

        Assert.Equal(101, windows.Count);
    }

    [Theory]
    [Trait("Requirement", "TIR-13")]
    [InlineData("http://alerts.example.org/hook", "WebhookUrl")]
    [InlineData("https://alerts.example.org/hook", "WebhookSecret")]
    public void A_webhook_must_be_https_or_loopback_and_have_a_secret(string url, string field)
    {
        var options = new AlertOptions { WebhookUrl = new Uri(url), WebhookSecret = url.StartsWith("http:", StringComparison.Ordinal) ? new string('s', 40) : "short" };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();

        Assert.Contains(errors, e => e.MemberNames.Contains(field));
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public void The_signature_is_the_hmac_sha256_of_the_body()
    {
        var body = "{\"rule\":\"x\"}"u8.ToArray();

        var signature = AlertDispatcher.Sign(body, "0123456789abcdef0123456789abcdef");

        // Note: computed independently with: printf '{"rule":"x"}' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
        Assert.Equal("sha256=532b316e117e3221bfe2cb7bd4200626998552b0fb7c09c64aba4f40161390c2", signature);
    }

    [Fact]
    [Trait("Requirement", "TIR-34")]
    public void Ten_federation_refusals_from_one_address_within_15_minutes_fire_the_peer_rule()
    {
        var alerts = Evaluator();

        for (var i = 0; i < 9; i++)
        {
            alerts.Committed(Record("federation.peer.refused", "node-b", "192.0.2.44", AuditOutcome.Denied, null, ("reason", "certificate-revoked")), 1, TimeSpan.Zero);
        }

        Assert.Empty(Drain(alerts));
        alerts.Committed(Record("federation.peer.refused", "node-b", "192.0.2.44", AuditOutcome.Denied, null, ("reason", "certificate-revoked")), 1, TimeSpan.Zero);
        var fired = Assert.Single(Drain(alerts));
        Assert.Equal(("federation-peer-refused", "192.0.2.44", 10L), (fired.Rule, fired.Key, fired.Value));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public void A_rule_switched_off_by_name_is_not_in_force_and_checks_never_match_audit_records()
    {
        var options = new AlertOptions { Rules = [new AlertRule { Name = "signin-failures-per-account", Action = "auth.signin", Enabled = false }] };

        var rules = options.InForce();

        Assert.DoesNotContain(rules, r => r.Name == "signin-failures-per-account");
        Assert.Contains(rules, r => r.Name == "signin-failures-per-source");
        Assert.Equal(["disk-free-reserve", "certificate-expiry", "witness-stale", "api-latency-objective", "federation-latency-objective", "federation-client-latency-objective", "audit-durability-objective", "backup-overdue", "restore-drill-overdue", "not-ready"], rules.Where(r => r.Check != AlertCheck.None).Select(r => r.Name));
        Assert.All(rules.Where(r => r.Check != AlertCheck.None), r => Assert.Null(r.Match(SignIn("alice", "203.0.113.7", "password-invalid"))));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public void Smtp_settings_require_sender_recipients_and_both_credentials()
    {
        var options = new AlertOptions { Smtp = new AlertSmtpOptions { Host = "mail.spe.example", Username = "spe" } };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToList();

        Assert.Contains(errors, e => e!.Contains("Alerts:Smtp:From", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.Contains("Alerts:Smtp:To", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.Contains("Alerts:Smtp:Username and Alerts:Smtp:Password", StringComparison.Ordinal));
        Assert.False(options.Smtp.IsLoopback);
        Assert.True(new AlertSmtpOptions { Host = "127.0.0.1" }.IsLoopback);
    }

    private AlertEvaluator Evaluator(AlertOptions? options = null) => new(Options.Create(options ?? new AlertOptions()), _clock);

    private static List<FiredAlert> Drain(AlertEvaluator alerts)
    {
        var all = new List<FiredAlert>();
        while (alerts.Fired.Reader.TryRead(out var alert))
        {
            all.Add(alert);
        }

        return all;
    }

    private static AuditEntry SignIn(string user, string source, string reason) =>
        Record("auth.signin", user, source, AuditOutcome.Denied, 400, ("reason", reason));

    private static AuditEntry Record(string action, string? user, string? source, AuditOutcome outcome, int? status, params (string Key, string Value)[] details) =>
        new(new AuditActor(null, user, [], null, source, null), action, AuditResource.None, outcome, status, null,
            details.ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal));
}
