using System.CommandLine;
using OpenSpe.Cli.Client;
using OpenSpe.Cli.Output;

namespace OpenSpe.Cli.Commands;

/// <summary><c>spe account ...</c>: the signed-in user's own second factor and password.</summary>
internal static class AccountCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        var command = new Command("account", "Manage your own account: enrol a second factor, change your password.");
        command.Subcommands.Add(EnrolTotp(env));
        command.Subcommands.Add(Password(env));
        command.Subcommands.Add(Activate(env));
        return command;
    }

    private static Command EnrolTotp(ClientEnvironment env)
    {
        var code = new Option<string?>("--code")
        {
            Description = "Confirm the enrolment started by an earlier 'spe account enrol-totp' with the current 6-digit code, and print the recovery codes. "
                + "Without it a new secret is issued and, on a terminal, the code is prompted for.",
        };
        var passwordStdin = new Option<bool>("--password-stdin")
        {
            Description = "Read your current password from the first line of standard input: replacing an enrolled second factor needs it "
                + "(on a terminal it is prompted for when needed).",
        };
        var json = CommonOptions.Json();
        var command = new Command("enrol-totp", "Enrol an authenticator app (TOTP, RFC 6238: SHA-1, 30 s, 6 digits) as your second factor. "
            + "Prints the secret and an otpauth:// URI to add to the app, then confirms with a code from it and prints the recovery codes, once. "
            + "With --json (or without a terminal) it stops after the secret; finish with 'spe account enrol-totp --code CODE'. "
            + "Replacing an enrolled factor needs your current password, and confirming it ends every session of yours, this one too.")
        {
            code, passwordStdin, json,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var asJson = parse.GetValue(json);
            using var api = SpeApiClient.Open(env);
            if (parse.GetValue(code) is { } given)
            {
                await ConfirmAsync(api, NormalizeCode(given), asJson, streams, cancellationToken);
                return ExitCodes.Success;
            }

            var password = parse.GetValue(passwordStdin) ? env.Input.ReadLine() ?? "" : null;
            TotpEnrolmentView enrolment;
            try
            {
                enrolment = await api.SendAsync<TotpEnrolmentView>(HttpMethod.Post, "api/v1/account/totp", new TotpBeginRequest(password), cancellationToken);
            }
            catch (ApiProblemException ex) when (password is null && env.Input.IsTerminal && ex.Problem?.Errors?.ContainsKey("password") == true)
            {
                password = env.Input.Prompt("Current password (replacing your second factor needs it): ", echo: false);
                enrolment = await api.SendAsync<TotpEnrolmentView>(HttpMethod.Post, "api/v1/account/totp", new TotpBeginRequest(password), cancellationToken);
            }

            if (asJson)
            {
                JsonOutput.Write(streams.Out, enrolment);
                return ExitCodes.Success;
            }

            TableWriter.WriteFields(streams.Out, [("Secret", enrolment.Secret), ("otpauth URI", enrolment.OtpauthUri)]);
            await streams.Out.FlushAsync(cancellationToken);
            if (!env.Input.IsTerminal)
            {
                streams.Hint("Add the secret to your authenticator app, then confirm with 'spe account enrol-totp --code CODE'.");
                return ExitCodes.Success;
            }

            var answer = env.Input.Prompt("Add the secret to your authenticator app, then enter the code it shows: ", echo: true).Trim();
            if (answer.Length == 0)
            {
                throw new SpeClientException("not confirmed: the second factor is not enrolled until you run 'spe account enrol-totp --code CODE'");
            }

            await ConfirmAsync(api, NormalizeCode(answer), asJson: false, streams, cancellationToken);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Activate(ClientEnvironment env)
    {
        var link = new Argument<string>("link") { Description = "The one-time enrolment link an admin handed you (https://HOST:PORT/account/activate?token=...)." };
        var fingerprint = new Option<string?>("--ca-fingerprint")
        {
            Description = "Trust exactly the server certificate with this SHA-256 (hex) instead of the system trust store; ask the operator for it.",
        };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the new password from the first line of standard input instead of prompting." };
        var command = new Command("activate", "Set your own password on a new account with the one-time enrolment link from your admin. "
            + "Then sign in with 'spe login' (no code yet) and enrol your second factor with 'spe account enrol-totp'.")
        {
            link, fingerprint, passwordStdin,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            if (!Uri.TryCreate(parse.GetValue(link), UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps
                || System.Web.HttpUtility.ParseQueryString(uri.Query)["token"] is not { Length: > 0 } token)
            {
                throw new SpeUsageException("the link must be the https URL from your admin, with its token (…/account/activate?token=…)");
            }

            string password;
            if (parse.GetValue(passwordStdin))
            {
                password = env.Input.ReadLine() ?? "";
            }
            else
            {
                if (!env.Input.IsTerminal)
                {
                    throw new SpeUsageException("standard input is not a terminal, so the password cannot be prompted for; pipe it in with --password-stdin");
                }

                password = env.Input.Prompt("New password (at least 12 characters): ", echo: false);
                if (env.Input.Prompt("New password again: ", echo: false) != password)
                {
                    throw new SpeClientException("the passwords do not match; nothing was changed");
                }
            }

            if (password.Length == 0)
            {
                throw new SpeUsageException("no password given");
            }

            var server = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
            var pin = parse.GetValue(fingerprint) is { } f ? CertificatePin.Normalize(f) : null;
            using var connection = env.Connect(server, pin);
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/account/activate")
            {
                Content = System.Net.Http.Json.JsonContent.Create(new ActivateRequest(token, password), options: new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)),
            };
            using var response = await connection.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw await ProblemText.FromResponseAsync(response, cancellationToken);
            }

            await streams.Out.WriteLineAsync("Password set.");
            streams.Hint($"Next: spe login --server {server} --user YOUR-ACCOUNT{(pin is null ? "" : " --ca-fingerprint " + pin)} (leave the code empty), then spe account enrol-totp.");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Password(ClientEnvironment env)
    {
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the current password from the first line of standard input and the new one from the second, instead of prompting." };
        var command = new Command("password", "Change your password. Prompts (without echo) for the current password and the new one, twice; "
            + "without a terminal, use --password-stdin.")
        {
            passwordStdin,
        };
        command.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            string current;
            string next;
            if (parse.GetValue(passwordStdin))
            {
                current = env.Input.ReadLine() ?? "";
                next = env.Input.ReadLine() ?? "";
                if (current.Length == 0 || next.Length == 0)
                {
                    throw new SpeUsageException("--password-stdin expects two lines: the current password, then the new one");
                }
            }
            else
            {
                if (!env.Input.IsTerminal)
                {
                    throw new SpeUsageException("standard input is not a terminal, so the passwords cannot be prompted for; pipe them in with --password-stdin");
                }

                current = env.Input.Prompt("Current password: ", echo: false);
                next = env.Input.Prompt("New password: ", echo: false);
                if (env.Input.Prompt("New password again: ", echo: false) != next)
                {
                    throw new SpeClientException("the new passwords do not match; nothing was changed");
                }

                if (current.Length == 0 || next.Length == 0)
                {
                    throw new SpeUsageException("no password given");
                }
            }

            using var api = SpeApiClient.Open(env);
            (await api.SendAsync(HttpMethod.Post, "api/v1/account/password", new PasswordChangeRequest(current, next), cancellationToken)).Dispose();

            await streams.Out.WriteLineAsync("Password changed.");
            streams.Hint("Every session of your account has ended, this one too: sign in again with 'spe login'.");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static async Task ConfirmAsync(SpeApiClient api, string code, bool asJson, ClientCommand.Streams streams, CancellationToken cancellationToken)
    {
        var codes = await api.SendAsync<RecoveryCodesView>(HttpMethod.Post, "api/v1/account/totp/confirm", new TotpConfirmRequest(code), cancellationToken);
        if (asJson)
        {
            JsonOutput.Write(streams.Out, codes);
        }
        else
        {
            TableWriter.Write(streams.Out, ["RECOVERY CODE"], codes.RecoveryCodes.Select(c => (IReadOnlyList<string?>)[c]), "No recovery codes.");
        }

        streams.Hint("Second factor enrolled. The recovery codes are shown only now: keep them offline; each signs in once with 'spe login --recovery-code'.");
        streams.Hint(codes.SessionsEnded
            ? "It replaced your old one, so every session of yours has ended, this one too: run 'spe login' again with a code from the new authenticator."
            : "Run 'spe login' again with --otp to get a session that uses the second factor.");
    }

    private static string NormalizeCode(string value)
    {
        var code = string.Concat(value.Where(c => !char.IsWhiteSpace(c)));
        return code.Length == 6 && code.All(char.IsAsciiDigit) ? code : throw new SpeUsageException("the code must be the 6 digits the authenticator app shows");
    }
}
