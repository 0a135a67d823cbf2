using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using OpenSpe.Contracts;
using OpenSpe.Server.Api;

namespace OpenSpe.Server.UnitTests.Api;

/// <summary>Log event ids live apart from error codes, each module in its documented range, each documented in docs/errors.md.</summary>
public sealed partial class LogEventIdTests
{
    // Note: the workspace runtime is an assembly of its own (OpenSpe.Workspaces) but logs into the server's log, so its
    // events share the numbering; its modules are the namespaces under OpenSpe.Workspaces.
    private static readonly List<(MethodInfo Method, LoggerMessageAttribute Attribute)> Events = typeof(ProblemCodes).Assembly.GetTypes()
        .Concat(typeof(OpenSpe.Workspaces.WorkspaceOptions).Assembly.GetTypes())
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
        .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
        .Where(e => e.Attribute is not null).Select(e => (e.Method, e.Attribute!)).ToList();

    private static string Where(MethodInfo method) => $"{method.DeclaringType!.FullName}.{method.Name}";

    /// <summary>The ranges table of docs/errors.md: first id, last id and the namespaces under OpenSpe.Server it names.</summary>
    private static List<(int First, int Last, string[] Modules)> Ranges() =>
        RepositoryDocs.Read("docs/errors.md").Split('\n').Select(l => RangeRow().Match(l)).Where(m => m.Success)
            .Select(m => (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture),
                Backticked().Matches(m.Groups[3].Value.Split(':')[0]).Select(b => b.Groups[1].Value).ToArray()))
            .ToList();

    [Fact]
    public void The_server_has_log_events_to_check() => Assert.True(Events.Count >= 20, $"only {Events.Count} [LoggerMessage] methods found");

    [Fact]
    public void No_log_event_id_is_an_error_code_number()
    {
        var codeNumbers = typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral)
            .Select(f => int.Parse(((string)f.GetRawConstantValue()!)[3..], System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();

        Assert.Empty(Events.Where(e => codeNumbers.Contains(e.Attribute.EventId) || e.Attribute.EventId < 10000).Select(e => $"{Where(e.Method)}: {e.Attribute.EventId}"));
    }

    [Fact]
    public void Each_module_logs_within_its_documented_range()
    {
        var ranges = Ranges();

        Assert.NotEmpty(ranges);
        foreach (var (method, attribute) in Events)
        {
            var module = method.DeclaringType!.Namespace!.Replace("OpenSpe.Server.", "", StringComparison.Ordinal)
                .Replace("OpenSpe.Workspaces.", "", StringComparison.Ordinal).Split('.')[0];
            var range = ranges.SingleOrDefault(r => r.Modules.Contains(module));
            Assert.True(range.Modules is not null, $"{Where(method)}: module {module} has no range in docs/errors.md");
            Assert.True(attribute.EventId >= range.First && attribute.EventId <= range.Last,
                $"{Where(method)}: event {attribute.EventId} is outside {module}'s range {range.First}–{range.Last}");
        }
    }

    [Fact]
    public void Each_event_id_is_unique_and_starts_its_message()
    {
        Assert.Empty(Events.GroupBy(e => e.Attribute.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => Where(e.Method)))}"));
        Assert.Empty(Events.Where(e => e.Attribute.Message?.StartsWith($"SPE{e.Attribute.EventId} ", StringComparison.Ordinal) != true)
            .Select(e => $"{Where(e.Method)}: message does not start with SPE{e.Attribute.EventId}"));
    }

    [Fact]
    public void Docs_list_exactly_the_log_events()
    {
        var documented = RepositoryDocs.ErrorDocRows().Select(r => r.Code).Where(c => c.Length == 8).ToHashSet(StringComparer.Ordinal);
        var logged = Events.Select(e => $"SPE{e.Attribute.EventId}").ToHashSet(StringComparer.Ordinal);

        Assert.Empty(logged.Except(documented).Select(e => $"{e} is logged but not in docs/errors.md"));
        Assert.Empty(documented.Except(logged).Select(e => $"{e} is in docs/errors.md but never logged"));
    }

    [GeneratedRegex(@"^\| (\d{5})–(\d{5}) \|(.*)\|\s*$")]
    private static partial Regex RangeRow();

    [GeneratedRegex("`([A-Za-z]+)`")]
    private static partial Regex Backticked();
}
