using System.CommandLine;
using System.Text.Json;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;

namespace OpenSpe.Cli.Commands;

/// <summary><c>spe admin ...</c>: account administration through the API (role <c>admin</c>).</summary>
internal static class AdminCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var user = new Command("user", "Create, list, disable and enable accounts, grant and revoke roles, reset a lost second factor.");
        user.Subcommands.Add(UserCreate(env));
        user.Subcommands.Add(UserList(env));
        user.Subcommands.Add(UserState(env, "disable", "Disable an account: it can no longer sign in, and its refresh tokens stop working."));
        user.Subcommands.Add(UserState(env, "enable", "Enable a disabled account again."));
        user.Subcommands.Add(UserGrant(env));
        user.Subcommands.Add(UserRevoke(env));
        user.Subcommands.Add(UserApprovalRequest(env, "reset-mfa", "Ask to remove an account's second factor and recovery codes (after verifying the person "
            + "out of band). A second admin approves it ('spe admin role-grants approve ID'); only then is the factor removed, every session of the account "
            + "ended, and its next sign-in can only enrol a new one.", "removes the second factor"));
        user.Subcommands.Add(UserApprovalRequest(env, "enrolment", "Ask for a new one-time enrolment link for an account whose person lost their password "
            + "(after verifying them out of band). A second admin approves it ('spe admin role-grants approve ID') and receives the link; "
            + "only then are the password and second factor removed and every session ended.", "receives the link"));

        var grants = new Command("role-grants", "Grants of privileged roles (admin, operator, hdab, auditor, output-checker) waiting for a second admin's approval.");
        grants.Subcommands.Add(GrantsList(env));
        grants.Subcommands.Add(GrantsApprove(env));

        var client = new Command("client", "Applications (OAuth client_credentials): principals of their own that act for nobody; "
            + "one reaches a project only when the HDAB names it in the permit (dataUsers[].application).");
        client.Subcommands.Add(ClientCreate(env));
        client.Subcommands.Add(ClientList(env));
        client.Subcommands.Add(ClientDelete(env));

        return new Command("admin", "Administer accounts, role grants and application clients on the server (needs the admin role).")
        {
            user, grants, client,
        };
    }

    private static Command UserCreate(ClientEnvironment env)
    {
        var username = Username();
        var roles = new Option<string[]>("--role")
        {
            Description = $"A role to grant (repeat for several): {string.Join(", ", AccountRoles.All)}. All but researcher and data-holder need a second admin's approval; "
                + "roles that may not be held together (docs/separation-of-duties.md) are refused.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        roles.AcceptOnlyFromAmong([.. AccountRoles.All]);
        var json = CommonOptions.Json();
        var command = new Command("create", "Create an account without a password. Prints its one-time enrolment link: hand it to the person over a "
            + "separate channel; they set their own password with 'spe account activate LINK', then sign in and enrol a second factor.")
        {
            username, roles, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var created = await api.SendAsync<CreatedUserView>(HttpMethod.Post, "api/v1/admin/users",
                new CreateUserRequest(parse.GetValue(username)!, parse.GetValue(roles) ?? []), cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, created);
            }
            else
            {
                TableWriter.WriteFields(streams.Out,
                [
                    ("Username", created.Username), ("Enrolment link", created.EnrolmentUrl), ("Link expires", Time(created.EnrolmentExpiresAt)),
                    ("Granted", string.Join(",", created.Granted ?? [])), ("Waiting for approval", string.Join(",", created.PendingApproval ?? [])),
                ]);
                streams.Hint("The enrolment link works once and is shown only now: hand it to the person over a separate channel.");
                if (created.PendingApproval is { Count: > 0 })
                {
                    streams.Hint("A second admin must approve the privileged roles: spe admin role-grants list");
                }
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command UserList(ClientEnvironment env)
    {
        var json = CommonOptions.Json();
        var command = new Command("list", "List accounts with their roles, state and second-factor enrolment.") { json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var users = await api.GetAsync<List<UserView>>("api/v1/admin/users", cancellationToken);
            WriteUsers(streams.Out, users, parse.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary><c>disable</c> and <c>enable</c>: a POST on the account that answers with it.</summary>
    private static Command UserState(ClientEnvironment env, string verb, string description)
    {
        var username = Username();
        var json = CommonOptions.Json();
        var command = new Command(verb, description) { username, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var updated = await api.SendAsync<UserView>(HttpMethod.Post, $"api/v1/admin/users/{Segment(parse.GetValue(username)!)}/{verb}", null, cancellationToken);
            WriteUser(streams.Out, updated, parse.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary><c>reset-mfa</c> and <c>enrolment</c>: a POST on the account that files a change for a second admin's approval.</summary>
    private static Command UserApprovalRequest(ClientEnvironment env, string verb, string description, string onApproval)
    {
        var username = Username();
        var json = CommonOptions.Json();
        var command = new Command(verb, description)
        {
            username, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var name = parse.GetValue(username)!;
            var result = await api.SendAsync<RoleChangeView>(HttpMethod.Post, $"api/v1/admin/users/{Segment(name)}/{verb}", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, new { username = name, status = result.Status, approvalId = result.ApprovalId });
            }
            else
            {
                TableWriter.WriteFields(streams.Out, [("Username", name), ("Status", result.Status), ("Approval id", result.ApprovalId)]);
                streams.Hint($"A second admin must approve it and then {onApproval}: spe admin role-grants approve {result.ApprovalId}");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command UserGrant(ClientEnvironment env)
    {
        var username = Username();
        var role = Role();
        var json = CommonOptions.Json();
        var command = new Command("grant", "Grant a role. Nobody can grant a role to themselves, nor one the separation-of-duties table forbids "
            + "beside the roles held; admin, operator, hdab, auditor and output-checker wait for a second admin ('spe admin role-grants approve ID').")
        {
            username, role, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (name, roleName) = (parse.GetValue(username)!, parse.GetValue(role)!);
            var result = await api.SendAsync<RoleChangeView>(HttpMethod.Put, $"api/v1/admin/users/{Segment(name)}/roles/{Segment(roleName)}", null, cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, new { username = name, role = roleName, status = result.Status, approvalId = result.ApprovalId });
            }
            else
            {
                TableWriter.WriteFields(streams.Out, [("Username", name), ("Role", roleName), ("Status", result.Status), ("Approval id", result.ApprovalId)]);
                if (result.ApprovalId is { } id)
                {
                    streams.Hint($"A second admin must approve it: spe admin role-grants approve {id}");
                }
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command UserRevoke(ClientEnvironment env)
    {
        var username = Username();
        var role = Role();
        var json = CommonOptions.Json();
        var command = new Command("revoke", "Revoke a role from an account.") { username, role, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var (name, roleName) = (parse.GetValue(username)!, parse.GetValue(role)!);
            var answer = await api.SendOptionalAsync(HttpMethod.Delete, $"api/v1/admin/users/{Segment(name)}/roles/{Segment(roleName)}", null, cancellationToken);
            WriteDone(streams.Out, answer, parse.GetValue(json), [("Username", name), ("Role", roleName), ("Status", "revoked")]);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command GrantsList(ClientEnvironment env)
    {
        var json = CommonOptions.Json();
        var command = new Command("list", "List role grants waiting for approval.") { json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var pending = await api.GetAsync<List<RoleGrantView>>("api/v1/admin/role-grants", cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, pending);
            }
            else
            {
                TableWriter.Write(streams.Out, ["ID", "USERNAME", "ROLE", "REQUESTED BY", "REQUESTED AT"],
                    pending.Select(g => (IReadOnlyList<string?>)[g.Id, g.Username, g.Role, g.RequestedBy, Time(g.RequestedAt)]), "No role grants waiting for approval.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command GrantsApprove(ClientEnvironment env)
    {
        var id = new Argument<string>("id") { Description = "The grant's id, from 'spe admin role-grants list'." };
        var json = CommonOptions.Json();
        var command = new Command("approve", "Approve a pending privileged grant, new enrolment link, external identity or second-factor reset requested by another admin (never your own request, "
            + "never your own account). Approving a new enrolment link prints the link: hand it to the person over a separate channel.") { id, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var grant = parse.GetValue(id)!;
            var answer = await api.SendOptionalAsync(HttpMethod.Post, $"api/v1/admin/role-grants/{Segment(grant)}/approve", null, cancellationToken);
            if (!parse.GetValue(json) && answer is { } body && body.TryGetProperty("enrolment", out var link))
            {
                TableWriter.WriteFields(streams.Out, [("Grant", grant), ("Status", "approved"), ("Username", link.GetProperty("username").GetString()),
                    ("Enrolment link", link.GetProperty("enrolmentUrl").GetString()), ("Link expires", Time(link.GetProperty("enrolmentExpiresAt").GetDateTimeOffset()))]);
                streams.Hint("The enrolment link works once and is shown only now: hand it to the person over a separate channel.");
                return ExitCodes.Success;
            }

            WriteDone(streams.Out, answer, parse.GetValue(json), [("Grant", grant), ("Status", "approved")]);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command ClientCreate(ClientEnvironment env)
    {
        var clientId = new Argument<string>("client-id") { Description = "The new application's client id, e.g. cohort-pipeline." };
        var name = new Option<string?>("--name") { Description = "A display name for the application." };
        var json = CommonOptions.Json();
        var command = new Command("create", "Register an application (client_credentials). It acts for nobody and reaches a project only when the HDAB "
            + "names it in the permit (dataUsers: [{\"application\": \"CLIENT-ID\"}]). Prints its secret once.")
        {
            clientId, name, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var created = await api.SendAsync<CreatedClientView>(HttpMethod.Post, "api/v1/admin/clients",
                new CreateClientRequest(parse.GetValue(clientId)!, parse.GetValue(name)), cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, created);
            }
            else
            {
                TableWriter.WriteFields(streams.Out, [("Client id", created.ClientId), ("Client secret", created.ClientSecret), ("Registered by", created.RegisteredBy)]);
                streams.Hint("The client secret is shown only now; store it in the application's secret store.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command ClientList(ClientEnvironment env)
    {
        var json = CommonOptions.Json();
        var command = new Command("list", "List the registered applications and who registered them.") { json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var clients = await api.GetAsync<List<ClientView>>("api/v1/admin/clients", cancellationToken);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, clients);
            }
            else
            {
                TableWriter.Write(streams.Out, ["CLIENT ID", "NAME", "REGISTERED BY"], clients.Select(c => (IReadOnlyList<string?>)[c.ClientId, c.DisplayName, c.RegisteredBy]), "No applications registered.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command ClientDelete(ClientEnvironment env)
    {
        var clientId = new Argument<string>("client-id") { Description = "The application's client id." };
        var json = CommonOptions.Json();
        var command = new Command("delete", "Delete an application: its tokens stop working within a second.") { clientId, json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var id = parse.GetValue(clientId)!;
            var answer = await api.SendOptionalAsync(HttpMethod.Delete, $"api/v1/admin/clients/{Segment(id)}", null, cancellationToken);
            WriteDone(streams.Out, answer, parse.GetValue(json), [("Client id", id), ("Status", "deleted")]);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Argument<string> Username() => new("username") { Description = "The account name." };

    private static Argument<string> Role()
    {
        var role = new Argument<string>("role") { Description = $"One of: {string.Join(", ", AccountRoles.All)}.", HelpName = "role" };
        role.AcceptOnlyFromAmong([.. AccountRoles.All]);
        return role;
    }

    private static void WriteUsers(TextWriter output, List<UserView> users, bool json)
    {
        if (json)
        {
            JsonOutput.Write(output, users);
        }
        else
        {
            UserTable(output, users);
        }
    }

    private static void WriteUser(TextWriter output, UserView user, bool json)
    {
        if (json)
        {
            JsonOutput.Write(output, user);
        }
        else
        {
            UserTable(output, [user]);
        }
    }

    /// <summary>
    /// One line per account with its first external identity (issuer, subject); each further identity on a line of its own
    /// under it with the account's cells empty, so that an issuer or a subject is never split or joined with another.
    /// </summary>
    private static void UserTable(TextWriter output, IEnumerable<UserView> users) =>
        TableWriter.Write(output, ["USERNAME", "ROLES", "DISABLED", "MFA", "EXTERNAL ISSUER", "EXTERNAL SUBJECT"], users.SelectMany(UserRows), "No accounts.");

    private static IEnumerable<IReadOnlyList<string?>> UserRows(UserView user)
    {
        // Note: an older server leaves the list out of its answer; that account then has no identity to show.
        var identities = user.ExternalIdentities ?? [];
        var first = identities.Count > 0 ? identities[0] : null;
        yield return [user.Username, string.Join(",", user.Roles ?? []), user.Disabled ? "yes" : "no", user.MfaEnrolled ? "yes" : "no", first?.Issuer, first?.Subject];
        foreach (var identity in identities.Skip(1))
        {
            yield return ["", "", "", "", identity.Issuer, identity.Subject];
        }
    }

    /// <summary>For answers whose body the contract leaves open: the server's JSON when it sent some, else a summary.</summary>
    private static void WriteDone(TextWriter output, JsonElement? answer, bool json, IReadOnlyList<(string Field, string? Value)> summary)
    {
        if (json)
        {
            if (answer is { } body)
            {
                JsonOutput.Write(output, body);
            }
            else
            {
                JsonOutput.Write(output, summary.ToDictionary(f => char.ToLowerInvariant(f.Field[0]) + f.Field[1..], f => f.Value));
            }
        }
        else
        {
            TableWriter.WriteFields(output, summary);
        }
    }

    private static string? Time(DateTimeOffset? time) => TimeText.ForPeople(time);

    // Names go into the path escaped, so "a/b" or "../x" stays one segment.
    private static string Segment(string value) => Uri.EscapeDataString(value);
}
