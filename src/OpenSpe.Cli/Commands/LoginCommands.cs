using System.CommandLine;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;

namespace OpenSpe.Cli.Commands;

/// <summary><c>spe login</c>, <c>spe whoami</c> and <c>spe logout</c>: the signed-in session kept in the user's config directory.</summary>
internal static class LoginCommands
{
    public static Command Login(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var server = new Option<string?>("--server") { Description = "Server URL, e.g. https://spe.example.org:8443 (default: the server of the current session)." };
        var user = new Option<string?>("--user") { Description = "Account name (default: the user of the current session; not needed with --device)." };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of standard input instead of prompting (needed when standard input is not a terminal)." };
        var otp = new Option<string?>("--otp") { Description = "The 6-digit one-time code from the authenticator app (prompted for when omitted on a terminal)." };
        var recoveryCode = new Option<string?>("--recovery-code") { Description = $"A recovery code ({RecoveryCodeFormat.Description}) instead of --otp, when the authenticator is lost; each works once." };
        var fingerprint = new Option<string?>("--ca-fingerprint")
        {
            Description = "Trust exactly the server certificate with this SHA-256 (hex, colons optional; 'spe server' prints it as 'TLS SHA-256') "
                + "instead of the system trust store. Remembered for later verbs.",
        };
        var device = new Option<bool>("--device") { Description = "Sign in from a browser instead: prints a URL and a code to approve there (OAuth device authorization grant)." };
        var command = new Command("login", "Sign in with password and second factor; the session is kept (mode 0600) in $SPE_CONFIG_DIR, "
            + "$XDG_CONFIG_HOME/spe or ~/.config/spe and refreshed automatically. A password-only session (no second factor enrolled yet) "
            + "can only run 'spe account enrol-totp'.")
        {
            server, user, passwordStdin, otp, recoveryCode, fingerprint, device,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var store = env.Store();
            var previous = TryLoad(store);
            var address = parse.GetValue(server) is { } s ? ServerConnection.ParseServer(s)
                : previous?.ServerUri ?? throw new SpeUsageException("--server is required (no current session to take it from)");
            var samePlace = previous is not null && previous.ServerUri == address;
            var pin = parse.GetValue(fingerprint) is { } f ? CertificatePin.Normalize(f) : samePlace ? previous!.CaFingerprint : null;
            var otpCode = parse.GetValue(otp) is { } o ? NormalizeOtp(o) : null;
            var recovery = parse.GetValue(recoveryCode) is { } r ? r.Trim() : null;
            var username = parse.GetValue(user) ?? (samePlace ? previous!.Username : null);
            if (otpCode is not null && recovery is not null)
            {
                throw new SpeUsageException("give --otp or --recovery-code, not both");
            }

            using var connection = env.Connect(address, pin);
            var oauth = new OAuthClient(connection, env.Time);
            TokenResponse token;
            bool secondFactorGiven;
            if (parse.GetValue(device))
            {
                if (parse.GetValue(passwordStdin) || otpCode is not null || recovery is not null)
                {
                    throw new SpeUsageException("--device signs in through the browser; it takes no --password-stdin, --otp or --recovery-code");
                }

                var authorization = await oauth.StartDeviceAsync(cancellationToken);
                var complete = authorization.VerificationUriComplete is { Length: > 0 } c ? c : null;
                streams.Hint(complete is null
                    ? $"To sign in, open {Clean(authorization.VerificationUri)} in a browser and enter the code {Clean(authorization.UserCode)}"
                    : $"To sign in, open {Clean(complete)} in a browser (or open {Clean(authorization.VerificationUri)} and enter the code {Clean(authorization.UserCode)})");
                streams.Hint("Waiting for approval...");
                token = await oauth.PollDeviceAsync(authorization, cancellationToken);
                secondFactorGiven = true;
            }
            else
            {
                if (string.IsNullOrWhiteSpace(username))
                {
                    throw new SpeUsageException("--user is required");
                }

                var password = ReadPassword(env.Input, parse.GetValue(passwordStdin), username);
                if (otpCode is null && recovery is null && env.Input.IsTerminal)
                {
                    var answer = env.Input.Prompt("One-time code (leave empty if this account has no second factor yet): ", echo: true).Trim();
                    otpCode = answer.Length == 0 ? null : NormalizeOtp(answer);
                }

                try
                {
                    token = await oauth.PasswordAsync(username, password, otpCode, recovery, cancellationToken);
                }
                catch (OAuthException ex) when (ex.Error == "invalid_grant" && otpCode is null && recovery is null)
                {
                    // The server answers a missing code exactly as a wrong password (it must not confirm the password), so say it here.
                    streams.Hint("spe: if this account has a second factor, give its code too (--otp, or --recovery-code).");
                    throw;
                }

                secondFactorGiven = otpCode is not null || recovery is not null;
            }

            var credentials = new StoredCredentials(address.ToString(), pin, username, token.AccessToken!, SpeApiClient.ExpiresAt(env.Time, token), token.RefreshToken);
            store.Save(credentials);
            await ReportAsync(env, store, credentials, secondFactorGiven, streams, cancellationToken);
            return ExitCodes.Success;
        }));
        return command;
    }

    public static Command WhoAmI(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var json = CommonOptions.Json();
        var command = new Command("whoami", "Show who the current session is signed in as: account, roles, how the sign-in was proven, and the server.") { json };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            using var api = SpeApiClient.Open(env);
            var account = await api.GetAsync<WhoAmIView>("api/v1/account", cancellationToken);
            var view = new WhoAmIView(api.Credentials.Server, account.Username, account.SubjectId, account.Roles ?? [], account.AuthenticationMethods ?? [],
                account.ClientId, account.MfaEnrolled, api.Credentials.CaFingerprint, api.Credentials.AccessTokenExpiresAt);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(streams.Out, view);
            }
            else
            {
                TableWriter.WriteFields(streams.Out,
                [
                    ("Server", view.Server),
                    ("Username", view.Username),
                    ("Subject", view.SubjectId),
                    ("Roles", string.Join(", ", view.Roles)),
                    ("Authentication", string.Join(", ", view.AuthenticationMethods)),
                    ("Client", view.ClientId),
                    ("MFA enrolled", view.MfaEnrolled ? "yes" : "no"),
                    ("Pinned certificate", view.CaFingerprint ?? "no (system trust store)"),
                    ("Token expires", TimeText.ForPeople(view.AccessTokenExpiresAt)),
                ]);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    public static Command Logout(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var command = new Command("logout", "Revoke the session's refresh token at the server, which ends every session of your account "
            + "within a second (on every device), and delete the local credentials (deleted even when the server cannot be reached; the message says so).");
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var store = env.Store();
            StoredCredentials? credentials;
            try
            {
                credentials = store.Load();
            }
            catch (SpeClientException ex)
            {
                // An unreadable or exposed file is exactly what logout must be able to remove.
                store.Delete();
                streams.Hint($"spe: {ex.Message}");
                await streams.Out.WriteLineAsync($"Removed {store.Path}.");
                return ExitCodes.Success;
            }

            if (credentials is null)
            {
                await streams.Out.WriteLineAsync("Not signed in.");
                return ExitCodes.Success;
            }

            try
            {
                // A short timeout: logout must not hang on a server that is gone.
                using var connection = env.Connect(credentials.ServerUri, credentials.CaFingerprint, TimeSpan.FromSeconds(10));
                var oauth = new OAuthClient(connection, env.Time);
                if (credentials.RefreshToken is { } refresh)
                {
                    await oauth.RevokeAsync(refresh, "refresh_token", cancellationToken);
                }
                else
                {
                    await oauth.RevokeAsync(credentials.AccessToken, "access_token", cancellationToken);
                }
            }
            catch (SpeClientException ex)
            {
                streams.Hint($"spe: could not revoke the session at the server ({ProblemText.Clause(ex.Message)}); the local credentials are removed anyway, "
                    + "and the refresh token stays valid at the server until it expires");
            }

            store.Delete();
            await streams.Out.WriteLineAsync($"Signed out of {credentials.Server}.");
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The password: from standard input when asked, else from a hidden prompt; no terminal and no --password-stdin is a usage error.</summary>
    private static string ReadPassword(IUserInput input, bool fromStdin, string username)
    {
        string? password;
        if (fromStdin)
        {
            password = input.ReadLine();
            if (string.IsNullOrEmpty(password))
            {
                throw new SpeUsageException("--password-stdin: standard input holds no password");
            }

            return password;
        }

        if (!input.IsTerminal)
        {
            throw new SpeUsageException("standard input is not a terminal, so the password cannot be prompted for; pipe it in with --password-stdin");
        }

        password = input.Prompt($"Password for {username}: ", echo: false);
        return password.Length > 0 ? password : throw new SpeUsageException("no password given");
    }

    private static string NormalizeOtp(string value)
    {
        var code = string.Concat(value.Where(c => !char.IsWhiteSpace(c)));
        return code.Length == 6 && code.All(char.IsAsciiDigit) ? code : throw new SpeUsageException("the one-time code must be 6 digits");
    }

    /// <summary>Reads the account with the new session to say who signed in, and whether the session can only enrol a second factor.</summary>
    private static async Task ReportAsync(ClientEnvironment env, CredentialStore store, StoredCredentials credentials, bool secondFactorGiven,
        ClientCommand.Streams streams, CancellationToken cancellationToken)
    {
        WhoAmIView? account = null;
        ApiProblemException? refused = null;
        try
        {
            using var api = new SpeApiClient(store, credentials, env.Connect(credentials.ServerUri, credentials.CaFingerprint), env.Time);
            account = await api.GetAsync<WhoAmIView>("api/v1/account", cancellationToken);
            if (account.Username is { Length: > 0 } name && name != credentials.Username)
            {
                store.Save(api.Credentials with { Username = name });
            }
        }
        catch (ApiProblemException ex)
        {
            refused = ex;
        }

        var who = account?.Username ?? credentials.Username ?? "(unknown)";
        if (account is { MfaEnrolled: false } || (refused?.Status == System.Net.HttpStatusCode.Forbidden && !secondFactorGiven))
        {
            await streams.Out.WriteLineAsync($"Signed in to {credentials.Server} as {who} with a password only.");
            streams.Hint("This account has no second factor yet, so this session can do nothing but enrol one: run 'spe account enrol-totp', then 'spe login' again with the code.");
            return;
        }

        var roles = account?.Roles is { Count: > 0 } r ? $" (roles: {string.Join(", ", r)})" : "";
        await streams.Out.WriteLineAsync($"Signed in to {credentials.Server} as {who}{roles}.");
        if (refused is not null)
        {
            streams.Hint($"spe: signed in, but the account could not be read: {refused.Message}");
        }
    }

    private static StoredCredentials? TryLoad(CredentialStore store)
    {
        try
        {
            return store.Load();
        }
        catch (SpeClientException)
        {
            // A broken or exposed old session is replaced by the new one.
            return null;
        }
    }

    private static string Clean(string value) => ProblemText.OneLine(value);

    /// <summary>The <c>spe whoami --json</c> document.</summary>
    internal sealed record WhoAmIView(
        string Server,
        string? Username,
        string? SubjectId,
        IReadOnlyList<string> Roles,
        IReadOnlyList<string> AuthenticationMethods,
        string? ClientId,
        bool MfaEnrolled,
        string? CaFingerprint,
        DateTimeOffset AccessTokenExpiresAt);
}
