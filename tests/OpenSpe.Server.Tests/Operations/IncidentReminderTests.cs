using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Operations.Incidents;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// Reminders on the HDAB clock (OPR-19) driven by the fake clock: a reminder alert before each deadline (6 h before the
/// early warning, 12 h before the detailed notification, 3 days before the final report by default), an overdue alert after
/// it, each once per stage, and the due-soon state in the API.
/// </summary>
public sealed class IncidentReminderTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = PermitFixture.Start;
    private PermitFixture _f = null!;
    private HttpClient _operator = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Alerts:Defaults"] = "false" });
        _operator = await _f.Server.ClientForAccountAsync("operator");
    }

    public async ValueTask DisposeAsync()
    {
        _operator.Dispose();
        await _f.DisposeAsync();
    }

    [Fact]
    [Trait("Requirement", "OPR-19")]
    public async Task A_reminder_fires_once_within_each_stages_lead_and_an_overdue_alert_once_after_its_deadline()
    {
        var id = await OpenAsync();
        var reminders = _f.Server.Services.GetRequiredService<IncidentReminders>();
        var ct = TestContext.Current.CancellationToken;

        var atStart = await reminders.RunOnceAsync(ct);
        await AdvanceAsync(TimeSpan.FromHours(17));
        var beforeLead = await reminders.RunOnceAsync(ct);
        var pendingView = await ShowAsync(id);
        await AdvanceAsync(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        var dueSoon = await reminders.RunOnceAsync(ct);
        var dueSoonAgain = await reminders.RunOnceAsync(ct);
        var dueSoonView = await ShowAsync(id);
        await AdvanceAsync(TimeSpan.FromHours(6));
        var overdue = await reminders.RunOnceAsync(ct);
        var overdueAgain = await reminders.RunOnceAsync(ct);
        var overdueView = await ShowAsync(id);

        Assert.Empty(atStart);
        Assert.Empty(beforeLead);
        var early = Deadline(pendingView, "early-warning");
        Assert.Equal(Start.AddHours(18), early.GetProperty("remindAt").GetDateTimeOffset());
        Assert.False(early.GetProperty("dueSoon").GetBoolean());
        Assert.Equal(Start.AddHours(72 - 12), Deadline(pendingView, "detailed").GetProperty("remindAt").GetDateTimeOffset());
        Assert.Equal(Start.AddMonths(1).AddDays(-3), Deadline(pendingView, "final").GetProperty("remindAt").GetDateTimeOffset());
        // Note: the hosted service's timer may have run the check first when the clock moved; either way it fired once.
        Assert.All(dueSoon.Concat(dueSoonAgain), a => Assert.Equal((IncidentReminders.ReminderRule, $"{id} early-warning"), (a.Rule, a.Key)));
        Assert.Empty(dueSoonAgain);
        Assert.Equal(["reminder"], Kinds(dueSoonView));
        Assert.True(Deadline(dueSoonView, "early-warning").GetProperty("dueSoon").GetBoolean());
        Assert.Equal("pending", Deadline(dueSoonView, "early-warning").GetProperty("status").GetString());
        Assert.All(overdue, a => Assert.Equal((IncidentReminders.OverdueRule, $"{id} early-warning"), (a.Rule, a.Key)));
        Assert.Empty(overdueAgain);
        Assert.Equal("overdue", Deadline(overdueView, "early-warning").GetProperty("status").GetString());
        Assert.True(overdueView.GetProperty("overdue").GetBoolean());
        Assert.Equal(["reminder", "overdue"], Kinds(overdueView));
    }

    [Fact]
    [Trait("Requirement", "OPR-19")]
    public async Task A_stage_sent_in_time_gets_neither_a_reminder_nor_an_overdue_alert()
    {
        var id = await OpenAsync();
        var reminders = _f.Server.Services.GetRequiredService<IncidentReminders>();
        var sent = await _operator.PostAsJsonAsync($"/api/v1/incidents/{id}/notifications", new { stage = "early-warning", recipient = "hdab@hdab.example", content = "Early warning." },
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, sent.StatusCode);

        await AdvanceAsync(TimeSpan.FromHours(25));
        var afterFirst = await reminders.RunOnceAsync(TestContext.Current.CancellationToken);

        Assert.Empty(afterFirst);
        Assert.Equal(["notification"], Kinds(await ShowAsync(id)));
    }

    private async Task<string> OpenAsync()
    {
        var response = await _operator.PostAsJsonAsync("/api/v1/incidents",
            new { title = "Unusual download volume", description = "A data user downloaded far more than usual.", severity = "high", detectedAt = Start },
            TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("id").GetString()!;
    }

    /// <summary>Moves the clock on; access tokens live minutes, so the operator signs in again as a person would.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        _f.Clock.Advance(by);
        _operator.Dispose();
        _operator = await _f.Server.ClientForAccountAsync("operator");
    }

    private Task<JsonElement> ShowAsync(string id) => _operator.GetFromJsonAsync<JsonElement>($"/api/v1/incidents/{id}", TestContext.Current.CancellationToken);

    private static List<string?> Kinds(JsonElement incident) => [.. incident.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("kind").GetString())];

    private static JsonElement Deadline(JsonElement incident, string stage) => incident.GetProperty("deadlines").EnumerateArray().First(d => d.GetProperty("stage").GetString() == stage);
}
