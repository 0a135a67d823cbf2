using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Terminal;

/// <summary>
/// Who may open the terminal and with what: the access chain (the permit's data users only, not halted, permit in force), the
/// permit's workspace kinds, tickets (single use, short-lived, bound to the project and to the terminal), the terms of use, and
/// the wire protocol's bounds. A refused upgrade starts nothing.
/// </summary>
public sealed class TerminalAccessTests(TerminalFixture f) : IClassFixture<TerminalFixture>
{
    [Theory]
    [InlineData("anonymous", 401)]
    [InlineData("no-mfa", 403)]
    [InlineData("outsider", 404)]
    [InlineData("holder", 403)]
    [InlineData("operator", 404)]
    [InlineData("hdab", 404)]
    [InlineData("auditor", 404)]
    [Trait("Requirement", "TIR-22")]
    public async Task Only_the_permits_data_users_with_a_second_factor_open_the_terminal(string who, int status)
    {
        var (_, projectId) = await f.IssueAsync();
        if (who == "outsider")
        {
            await f.Server.EnsureAccountAsync("outsider", "researcher");
        }

        var token = who switch
        {
            "anonymous" => null,
            "no-mfa" => await f.Server.PasswordOnlyTokenAsync("term-nomfa", "researcher"),
            _ => await f.Server.TokenForAccountAsync(who),
        };

        Assert.Equal(status, await f.TryOpenAsync(f.TerminalUri(projectId), token));
        if (token is not null)
        {
            using var client = f.Server.ClientWithToken(token);
            var ticket = await client.PostAsJsonAsync($"/api/v1/projects/{projectId}/terminal/tickets", new { acceptTerms = true, termsVersion = TerminalFixture.TermsVersion },
                TestContext.Current.CancellationToken);
            Assert.Equal(status, (int)ticket.StatusCode);
        }

        Assert.Empty(await f.AuditAsync(projectId, "terminal.session.opened"));
        Assert.Empty(f.Shells(projectId));
    }

    [Theory]
    [InlineData("terminal", "https://evil.example", 403)]
    [InlineData("desktop", "https://evil.example", 403)]
    [InlineData("terminal", "http://127.0.0.1", 403)]
    [InlineData("terminal", "same", 101)]
    [Trait("Requirement", "TIR-22")]
    public async Task A_session_opened_from_another_origins_page_is_refused(string kind, string origin, int status)
    {
        if (status == 101)
        {
            f.RequireTerminal();
        }

        var (_, projectId) = await f.IssueAsync();
        var ticket = await f.TicketAsync("researcher", projectId, kind);
        var sent = origin == "same" ? $"https://{f.Server.BaseAddress.Authority}" : origin;

        Assert.Equal(status, await f.TryOpenAsync(f.TerminalUri(projectId, ticket, kind), null, acceptTerms: false, origin: sent));
        if (status == 403)
        {
            var denied = Assert.Single(await f.AuditAsync(projectId, kind + ".open"), r => r.Outcome == "denied");
            Assert.Equal("cross-origin", TerminalFixture.Detail(denied, "reason"));
            Assert.Empty(await f.AuditAsync(projectId, kind + ".session.opened"));
        }
    }

    [Theory]
    [InlineData("disabled", "terminal")]
    [InlineData("signed-out", "terminal")]
    [InlineData("signed-out", "desktop")]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "OPR-1")]
    public async Task A_ticket_issued_before_its_sign_in_ended_opens_nothing(string how, string kind)
    {
        var name = $"leaver-{how}-{kind}";
        await f.Server.EnsureAccountAsync(name, "researcher");
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(60), "HDAB-LEAVE-" + Guid.NewGuid().ToString("N")[..8],
            "researcher", name);
        document["policies"] = new { workspaceKinds = new[] { "terminal", "desktop" }, clipboard = "none" };
        var (_, projectId) = await f.Permits.IssueAsync(document);
        var (token, refresh) = await f.Server.SignInAsync(name);
        using var client = f.Server.ClientWithToken(token);
        using var issued = await client.PostAsJsonAsync($"/api/v1/projects/{projectId}/{kind}/tickets", new { acceptTerms = true, termsVersion = TerminalFixture.TermsVersion },
            TestContext.Current.CancellationToken);
        var ticket = (await issued.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("ticket").GetString()!;

        if (how == "disabled")
        {
            using var admin = await f.Server.ClientForAccountAsync("admin");
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/admin/users/{name}/disable", null, TestContext.Current.CancellationToken)).StatusCode);
        }
        else
        {
            using var revoke = await f.Server.Client.PostAsync("/connect/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = "spe-cli",
                ["token"] = refresh,
            }), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        // The sign-in has ended once its bearer token is refused (within a second); the ticket is tried after that.
        for (var attempt = 0; (await client.GetAsync("/api/v1/account", TestContext.Current.CancellationToken)).StatusCode != HttpStatusCode.Unauthorized; attempt++)
        {
            Assert.True(attempt < 250, "the bearer token still works 5 s after the sign-in ended");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        var status = await f.TryOpenAsync(f.TerminalUri(projectId, ticket, kind), null, acceptTerms: false);

        Assert.Equal(401, status);
        var refused = Assert.Single(await f.AuditAsync(projectId, kind + ".ticket.refused"));
        Assert.Equal("session-ended", TerminalFixture.Detail(refused, "reason"));
        Assert.Empty(await f.AuditAsync(projectId, kind + ".ticket.used"));
        Assert.Empty(await f.AuditAsync(projectId, kind + ".session.opened"));
        Assert.Empty(f.Shells(projectId));
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "OPR-20")]
    public async Task A_permit_without_the_terminal_kind_a_halted_project_and_a_revoked_permit_are_refused()
    {
        var (_, noTerminal) = await f.IssueAsync(kinds: ["desktop", "job"]);
        var (_, halted) = await f.IssueAsync();
        var (revokedPermit, revoked) = await f.IssueAsync();
        var token = await f.Server.TokenForAccountAsync("researcher");
        Assert.Equal(HttpStatusCode.Created, (await f.Permits.PostAsAsync("operator", "/api/v1/halts", new { projectId = halted, reason = "terminal test" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await f.Permits.PostAsAsync("hdab", $"/api/v1/permits/{revokedPermit}/revoke", new { reason = "terminal test" })).StatusCode);

        Assert.Equal(403, await f.TryOpenAsync(f.TerminalUri(noTerminal), token));
        Assert.Equal(423, await f.TryOpenAsync(f.TerminalUri(halted), token));
        Assert.Equal(403, await f.TryOpenAsync(f.TerminalUri(revoked), token));
        using var client = f.Server.ClientWithToken(token);
        var noTerminalTicket = await client.PostAsJsonAsync($"/api/v1/projects/{noTerminal}/terminal/tickets", new { acceptTerms = true, termsVersion = TerminalFixture.TermsVersion },
            TestContext.Current.CancellationToken);
        Assert.Equal(ErrorCodes.TerminalNotAllowed, await CodeAsync(noTerminalTicket));
        Assert.Equal(ErrorCodes.TerminalNotWebSocket, await CodeAsync(await client.GetAsync($"/api/v1/projects/{noTerminal}/terminal", TestContext.Current.CancellationToken)));
        foreach (var project in new[] { noTerminal, halted, revoked })
        {
            Assert.Empty(await f.AuditAsync(project, "terminal.session.opened"));
            Assert.Empty(f.Shells(project));
        }
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "SPER-7")]
    public async Task A_ticket_opens_the_terminal_once_and_the_terms_are_needed_for_a_ticket_or_a_bearer_upgrade()
    {
        f.RequireTerminal();
        var (_, projectId) = await f.IssueAsync();
        var ticket = await f.TicketAsync("researcher", projectId);

        using (var socket = f.NewSocket())
        {
            await socket.ConnectAsync(f.TerminalUri(projectId, ticket), TestContext.Current.CancellationToken);
            using var client = new TerminalTestClient(socket);
            await client.SendAsync("echo T-$((3*3))\r");
            await client.WaitForAsync("T-9");
            await client.CloseAsync();
        }

        var reused = await f.TryOpenAsync(f.TerminalUri(projectId, ticket), null, acceptTerms: false);
        var bearerWithoutTerms = await f.TryOpenAsync(f.TerminalUri(projectId), await f.Server.TokenForAccountAsync("researcher"), acceptTerms: false);
        var oldTerms = await f.Permits.PostAsAsync("researcher", $"/api/v1/projects/{projectId}/terminal/tickets", new { acceptTerms = true, termsVersion = "1999-01-01" });
        await f.ClosedRecordAsync(projectId);

        Assert.Equal((401, 400), (reused, bearerWithoutTerms));
        Assert.Equal(ErrorCodes.TerminalTermsNotAccepted, await CodeAsync(oldTerms));
        Assert.Single(await f.AuditAsync(projectId, "terminal.ticket.issued"));
        Assert.Single(await f.AuditAsync(projectId, "terminal.ticket.used"));
        Assert.Equal("ticket-reused", TerminalFixture.Detail(Assert.Single(await f.AuditAsync(projectId, "terminal.ticket.refused")), "reason"));
        Assert.Single(await f.AuditAsync(projectId, "terminal.session.opened"));
    }

    [Fact]
    [Trait("Requirement", "TIR-22")]
    public async Task A_desktop_ticket_does_not_open_the_terminal_nor_a_terminal_ticket_the_desktop_and_an_expired_ticket_is_refused()
    {
        var (_, projectId) = await f.IssueAsync();
        var desktopTicket = await f.TicketAsync("researcher", projectId, kind: "desktop");
        var terminalTicket = await f.TicketAsync("researcher", projectId);
        var expiring = await f.TicketAsync("researcher", projectId);

        var desktopForTerminal = await f.TryOpenAsync(f.TerminalUri(projectId, desktopTicket), null, acceptTerms: false);
        var terminalForDesktop = await f.TryOpenAsync(f.TerminalUri(projectId, terminalTicket, kind: "desktop"), null, acceptTerms: false);
        f.Permits.Clock.Advance(TimeSpan.FromSeconds(31));
        var expired = await f.TryOpenAsync(f.TerminalUri(projectId, expiring), null, acceptTerms: false);

        Assert.Equal((401, 401, 401), (desktopForTerminal, terminalForDesktop, expired));
        Assert.Equal(["ticket-other-kind", "ticket-expired"], (await f.AuditAsync(projectId, "terminal.ticket.refused")).Select(r => TerminalFixture.Detail(r, "reason")).ToArray());
        Assert.Equal("ticket-other-kind", TerminalFixture.Detail(Assert.Single(await f.AuditAsync(projectId, "desktop.ticket.refused")), "reason"));
        Assert.Empty(await f.AuditAsync(projectId, "terminal.session.opened"));
        Assert.Empty(await f.AuditAsync(projectId, "desktop.session.opened"));
    }

    [Theory]
    [InlineData("text", "{\"type\":\"resize\",\"cols\":80}", WebSocketCloseStatus.PolicyViolation, "control-invalid")]
    [InlineData("text", "{\"type\":\"exec\",\"command\":\"id\"}", WebSocketCloseStatus.PolicyViolation, "control-invalid")]
    [InlineData("text", "{\"type\":\"resize\",\"cols\":80,\"rows\":0}", WebSocketCloseStatus.PolicyViolation, "control-invalid")]
    [InlineData("text", "{\"type\":\"resize\",\"cols\":80,\"rows\":24,\"rows\":25}", WebSocketCloseStatus.PolicyViolation, "control-invalid")]
    [InlineData("text", "resize 80 24", WebSocketCloseStatus.PolicyViolation, "control-invalid")]
    [InlineData("text", "long", WebSocketCloseStatus.MessageTooBig, "message-too-big")]
    [InlineData("binary", "long", WebSocketCloseStatus.MessageTooBig, "message-too-big")]
    [Trait("Requirement", "TIR-26")]
    public async Task A_malformed_or_oversized_message_closes_the_session_with_a_clear_status(string type, string message, WebSocketCloseStatus expected, string reason)
    {
        f.RequireTerminal();
        var (_, projectId) = await f.IssueAsync();
        using var client = await f.OpenAsync("researcher", projectId);
        await client.WaitForHelloAsync();
        var shell = Assert.Single(f.Shells(projectId));

        var bytes = message == "long" ? new byte[TerminalFixture.MaxInput + 1] : System.Text.Encoding.UTF8.GetBytes(message);
        await client.Socket.SendAsync(bytes, type == "text" ? WebSocketMessageType.Text : WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);
        var status = await client.WaitForCloseAsync();
        await shell.Completion.WaitAsync(TestContext.Current.CancellationToken);

        Assert.Equal(expected, status);
        Assert.Equal(reason, TerminalFixture.Detail(await f.ClosedRecordAsync(projectId), "end"));
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("code").GetString();
}
