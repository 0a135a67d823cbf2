using System.CommandLine;
using System.Globalization;
using OpenSpe.Cli.Client;
using OpenSpe.Contracts;
using static OpenSpe.Cli.Client.PermitClient;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// <c>spe desktop url</c>: the link that opens a project's remote desktop in a browser, signed in as you. Until the web portal
/// signs people in with a cookie session, the desktop page takes the access token from the link's fragment, which a browser
/// never sends to a server and the page removes from the address bar at once.
/// </summary>
internal static class DesktopCommands
{
    public static Command Create(ClientEnvironment? environment = null)
    {
        var env = environment ?? ClientEnvironment.System;
        return new Command("desktop", "The project's remote desktop in the browser (Xtigervnc in the project's sandbox, through the SPE's gateway).")
        {
            Url(env),
        };
    }

    private static Command Url(ClientEnvironment env)
    {
        var project = new Option<string>("--project") { Description = "The project's id (see 'spe project list').", Required = true, HelpName = "id" };
        var verb = new Command("url", "Print the link that opens the project's desktop in your browser. It carries your access token (in the part after '#', "
            + "which the browser does not send): open it yourself and share it with nobody. The page shows the terms of use to accept first.")
        {
            project,
        };
        verb.SetAction((parse, cancellationToken) => ClientCommand.RunAsync(parse, async streams =>
        {
            var projectId = parse.GetValue(project)!.Trim();
            using var api = SpeApiClient.Open(env);
            // Note: asking for the terms first lets the server refuse a project the caller may not open (with its own message),
            // and refreshes the token if it is near expiry, so the link does not carry one about to lapse.
            await api.SendAsync<DesktopTermsView>(HttpMethod.Get, $"api/v1/projects/{Segment(projectId)}/desktop/terms", null, cancellationToken);
            var credentials = api.Credentials;
            var link = new UriBuilder(credentials.ServerUri) { Path = "/desktop/" + Uri.EscapeDataString(projectId), Fragment = "token=" + Uri.EscapeDataString(credentials.AccessToken) };
            streams.Out.WriteLine(link.Uri.AbsoluteUri);
            streams.Hint($"The link works until {credentials.AccessTokenExpiresAt.ToLocalTime().ToString("HH:mm", CultureInfo.InvariantCulture)} (your access token's expiry); the desktop session, once open, lasts beyond it.");
            return ExitCodes.Success;
        }));
        return verb;
    }
}
