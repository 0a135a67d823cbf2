using System.Reflection;
using System.Text.RegularExpressions;
using OpenSpe.Contracts;
using OpenSpe.Server.Api;

namespace OpenSpe.Server.UnitTests.Api;

/// <summary>Every error code is defined once, documented in docs/errors.md, and used; every status the API answers has its own.</summary>
public sealed partial class ErrorCodesTests
{
    private static readonly IReadOnlyDictionary<string, string> Defined = typeof(ErrorCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral)
        .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!);

    // Statuses the API answers with a problem (the OpenAPI test holds every operation to these).
    public static TheoryData<int> AnsweredStatuses() => [400, 401, 403, 404, 405, 409, 410, 412, 413, 415, 422, 423, 429, 460, 500, 503, 507];

    private static Dictionary<string, int> Documented() =>
        RepositoryDocs.ErrorDocRows().Where(r => CodeShape().IsMatch(r.Code)).ToDictionary(r => r.Code, r => int.Parse(r.Second, System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    [Trait("Requirement", "TIR-10")]
    public void Each_code_is_defined_once_and_documented_and_docs_list_no_other()
    {
        var documented = Documented();

        Assert.Equal(Defined.Count, Defined.Values.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(Defined.Where(d => !documented.ContainsKey(d.Value)).Select(d => $"{d.Key} = {d.Value} is not in docs/errors.md"));
        Assert.Empty(documented.Keys.Where(c => !Defined.Values.Contains(c)).Select(c => $"{c} is in docs/errors.md but not in ErrorCodes"));
    }

    [Fact]
    public void Each_defined_code_is_used_by_the_server()
    {
        var sources = RepositoryDocs.Sources().Where(s => !s.Path.EndsWith("ErrorCodes.cs", StringComparison.Ordinal)).Select(s => s.Text).ToList();

        var unused = Defined.Keys.Where(name => !sources.Any(text => Regex.IsMatch(text, $@"\bErrorCodes\.{name}\b"))).ToList();

        Assert.Empty(unused);
    }

    [Fact]
    public void Code_numbers_written_in_the_sources_are_documented_codes()
    {
        var documented = Documented();

        var unknown = RepositoryDocs.Sources().Where(s => !s.Path.EndsWith("ErrorCodes.cs", StringComparison.Ordinal))
            .SelectMany(s => FourDigitCode().Matches(s.Text).Select(m => $"{s.Path}: {m.Value}"))
            .Where(hit => !documented.ContainsKey(hit[(hit.LastIndexOf(' ') + 1)..])).ToList();

        Assert.Empty(unknown);
    }

    [Theory]
    [MemberData(nameof(AnsweredStatuses))]
    [Trait("Requirement", "TIR-10")]
    public void Each_answered_status_has_its_own_generic_code_documented_with_that_status(int status)
    {
        var code = ProblemCodes.ForStatus(status);

        Assert.True(Documented().TryGetValue(code, out var documentedStatus), $"{status} maps to {code}, which docs/errors.md does not list");
        Assert.Equal(status, documentedStatus);
    }

    [Fact]
    public void Generic_codes_of_different_statuses_differ()
    {
        var statuses = AnsweredStatuses().Select(row => (int)row.Data).ToList();

        Assert.Equal(statuses.Count, statuses.Select(ProblemCodes.ForStatus).Distinct(StringComparer.Ordinal).Count());
    }

    [GeneratedRegex(@"^SPE\d{4}$")]
    private static partial Regex CodeShape();

    [GeneratedRegex(@"\bSPE\d{4}(?!\d)")]
    private static partial Regex FourDigitCode();
}
