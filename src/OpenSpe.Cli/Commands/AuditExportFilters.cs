using System.CommandLine;

namespace OpenSpe.Cli.Commands;

/// <summary>
/// The filters of <c>spe audit export</c> besides time, as the server's export and search take them (<c>actor</c>, <c>action</c>,
/// <c>project</c>); null means any.
/// </summary>
/// <param name="Actor">Username or subject id.</param>
/// <param name="Action">Exact action name.</param>
/// <param name="Project">Project id.</param>
internal sealed record AuditExportFilters(string? Actor, string? Action, string? Project)
{
    /// <summary>As long as the server accepts (<c>GET /api/v1/audit/export</c> refuses a longer one with 400).</summary>
    public const int MaxLength = 200;

    /// <summary>A filter option: not blank, at most <see cref="MaxLength"/> characters, refused before any request.</summary>
    public static Option<string?> Option(string name, string description, string helpName)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = helpName };
        option.Validators.Add(result =>
        {
            var value = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
            if (string.IsNullOrWhiteSpace(value))
            {
                result.AddError($"{name} must not be blank");
            }
            else if (value.Length > MaxLength)
            {
                result.AddError($"{name} must be at most {MaxLength} characters");
            }
        });
        return option;
    }
}
