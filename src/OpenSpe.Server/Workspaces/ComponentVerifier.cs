using System.Text;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Workspaces;

/// <summary>
/// Approved components (FCR-3, FCR-4): the HDAB names each in the permit by name, version and SHA-256; its file is
/// <c>&lt;Jobs:ComponentDirectory&gt;/&lt;name&gt;/&lt;version&gt;</c> in the project. Its hash is taken in the project's
/// sandbox when the job is submitted (a mismatch is refused), and again by the job itself on a private copy, which is what
/// runs.
/// </summary>
internal sealed class ComponentVerifier(IWorkspaceRuntime runtime, IOptions<JobOptions> options)
{
    // Note: the job copies the component into its private /tmp, checks the copy's SHA-256 and runs the copy, so a member who
    // changes the file in /project after the submission's check cannot get other code run under the component's name
    // (time of check to time of use).
    private const string Launcher = """
        set -eu
        copy=$(mktemp /tmp/spe-component.XXXXXX)
        cp -- "$1" "$copy"
        chmod 0500 "$copy"
        actual=$(sha256sum -- "$copy" | cut -c1-64)
        if [ "$actual" != "$2" ]; then
          echo "spe: component $1 is not the approved build (SHA-256 $actual, approved $2); it was not run" >&2
          exit 126
        fi
        shift 2
        exec "$copy" "$@"
        """;

    private const int MaxHashOutput = 4096;

    /// <summary>The path of <paramref name="component"/> in the sandbox, or null when its name or version cannot be a path segment.</summary>
    public string? PathOf(PermitComponent component)
    {
        ArgumentNullException.ThrowIfNull(component);
        return IsSegment(component.Name) && IsSegment(component.Version) ? $"{options.Value.ComponentDirectory}/{component.Name}/{component.Version}" : null;
    }

    /// <summary>What the job runs for <paramref name="component"/>: the launcher that checks and runs a private copy.</summary>
    public static IReadOnlyList<string> CommandFor(string path, PermitComponent component, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(args);
        return ["/bin/sh", "-c", Launcher, "spe-component", path, component.Sha256, .. args];
    }

    /// <summary>The SHA-256 (lower-case hex) of the file at <paramref name="path"/> in the project's sandbox, or null when it cannot be read.</summary>
    public async Task<string?> Sha256Async(string projectId, string member, string path, CancellationToken cancellationToken)
    {
        await using var process = await runtime.StartAsync(new WorkspaceSpec
        {
            ProjectId = projectId,
            Member = member,
            Command = ["sha256sum", "--", path],
            Limits = options.Value.Limits,
        }, cancellationToken);
        await process.StandardInput.DisposeAsync();
        var output = new MemoryStream();
        var buffer = new byte[1024];
        var drainError = process.StandardError.CopyToAsync(Stream.Null, cancellationToken);
        int read;
        while ((read = await process.StandardOutput.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (output.Length < MaxHashOutput)
            {
                output.Write(buffer, 0, read);
            }
        }

        await drainError;
        var exit = await process.Completion.WaitAsync(cancellationToken);
        var text = Encoding.ASCII.GetString(output.GetBuffer(), 0, (int)output.Length);
        return exit.ExitCode == 0 && text.Length >= 64 && text[..64].All(char.IsAsciiHexDigitLower) ? text[..64] : null;
    }

    private static bool IsSegment(string value) =>
        value is not ("." or "..") && value.Length is > 0 and <= 100 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+');
}
