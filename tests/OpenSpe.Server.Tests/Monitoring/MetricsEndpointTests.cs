using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using OpenSpe.Server.Tests.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// <c>/metrics</c>: Prometheus text of the SPE's own meters and the platform's HTTP and runtime meters, readable by a
/// signed-in operator or a configured scraper range and by no one else (SPER-9, TIR-13, TIR-27).
/// </summary>
[Collection(MetricsSerial.Name)]
public sealed partial class MetricsEndpointTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;
    private IdentityClient _identity = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await SpeTestServer.StartAsync();
        _identity = new IdentityClient(_server);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    [Trait("Requirement", "SPER-9")]
    [Trait("Requirement", "TIR-13")]
    public async Task A_failed_sign_in_and_a_wrong_one_time_code_appear_in_the_metrics_after_they_happen()
    {
        using var operatorClient = await _server.ClientForAccountAsync("operator");
        var before = await ScrapeAsync(operatorClient);
        var account = _identity.Account("researcher");
        var code = _identity.NextCode(account.TotpSecret);
        var wrongCode = ((int.Parse(code, CultureInfo.InvariantCulture) + 500_000) % 1_000_000).ToString("D6", CultureInfo.InvariantCulture);

        // Note: two accounts, because the sign-in throttle would hold back the second attempt on one account as "throttled".
        (await _identity.PasswordGrantAsync("holder", "not-the-password-1", code)).Dispose();
        (await _identity.PasswordGrantAsync("researcher", account.Password, wrongCode)).Dispose();
        var after = await ScrapeAsync(operatorClient);

        Assert.Equal(Value(before, "spe_signin_attempts_total", "outcome=\"denied\",reason=\"password-invalid\"") + 1,
            Value(after, "spe_signin_attempts_total", "outcome=\"denied\",reason=\"password-invalid\""));
        Assert.Equal(Value(before, "spe_signin_second_factor_failures_total", "reason=\"otp-invalid\"") + 1,
            Value(after, "spe_signin_second_factor_failures_total", "reason=\"otp-invalid\""));
        Assert.True(Value(after, "spe_signin_attempts_total", "outcome=\"success\",reason=\"none\"") >= 1, "the operator's own sign-in is counted");
    }

    [Fact]
    [Trait("Requirement", "TIR-15")]
    [Trait("Requirement", "TIR-27")]
    public async Task Request_latency_audit_latency_and_the_runtime_are_exported()
    {
        using var operatorClient = await _server.ClientForAccountAsync("operator");
        (await operatorClient.GetAsync(new Uri("/api/v1/account", UriKind.Relative))).Dispose();

        var text = await ScrapeAsync(operatorClient);

        Assert.Contains("http_server_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
        Assert.True(Value(text, "spe_audit_append_duration_seconds_count", "") >= 1, "every request writes an audit record, so appends were timed");
        Assert.Contains("dotnet_gc_heap_total_allocated_bytes", text, StringComparison.Ordinal);
        Assert.StartsWith("text/plain", (await operatorClient.GetAsync(new Uri("/metrics", UriKind.Relative))).Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Requirement", "TIR-13")]
    [Trait("Requirement", "SDR-1")]
    [InlineData("researcher")]
    [InlineData("hdab")]
    [InlineData("auditor")]
    [InlineData("admin")]
    public async Task Other_roles_are_refused(string username)
    {
        using var client = await _server.ClientForAccountAsync(username);

        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("spe_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public async Task Without_a_token_and_from_no_allowed_range_it_is_refused()
    {
        using var response = await _server.Client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("spe_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public async Task An_operator_token_without_a_second_factor_is_refused()
    {
        var token = await _server.PasswordOnlyTokenAsync("ops-no-mfa", "operator");

        using var response = await _server.ClientWithToken(token).GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    internal static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of <paramref name="name"/> with exactly <paramref name="labels"/> (besides the exporter's own <c>otel_scope_*</c> labels), 0 when absent.</summary>
    internal static double Value(string text, string name, string labels)
    {
        foreach (Match line in SampleLine().Matches(text))
        {
            if (line.Groups["name"].Value != name)
            {
                continue;
            }

            var own = string.Join(',', line.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => !l.StartsWith("otel_scope_", StringComparison.Ordinal)));
            if (own == labels)
            {
                return double.Parse(line.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>The sum of <paramref name="name"/> over the samples whose labels include all of <paramref name="labels"/> (in any order), 0 when none.</summary>
    internal static double Sum(string text, string name, params (string Name, string Value)[] labels)
    {
        var wanted = labels.Select(l => $"{l.Name}=\"{l.Value}\"").ToHashSet(StringComparer.Ordinal);
        return SampleLine().Matches(text)
            .Where(line => line.Groups["name"].Value == name && wanted.IsSubsetOf(line.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)))
            .Sum(line => double.Parse(line.Groups["value"].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex SampleLine();
}
