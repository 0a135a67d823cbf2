using OpenSpe.Disclosure;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Omop;

namespace OpenSpe.Federation.Tests.Omop;

/// <summary>
/// Federated OMOP cohort counts on the Synthea27Nj sample (28 persons). Expected counts were computed independently with
/// Python's csv module over the same files: Viral sinusitis (40481087) 23 persons (11 male, 12 female; by age at first
/// event 0-9: 4, 10-19: 6, 20-29: 3, 30-39: 4, 40-49: 3, 50-59: 1, 60-69: 1, 70-79: 1; by person_id mod 3: 6, 9, 8),
/// Otitis media (372328) 9 persons (by person_id mod 3: 2, 3, 4), Viral sinusitis or Acute viral pharyngitis (4112343) 24.
/// </summary>
public sealed class CohortCountTests : IDisposable
{
    private const long ViralSinusitis = 40481087;
    private const long OtitisMedia = 372328;
    private readonly OmopFixture _cdm = new();

    public void Dispose() => _cdm.Dispose();

    private static NodePolicy Threshold(int threshold, bool zerosAllowed = false) =>
        NodePolicy.Default with { Disclosure = DisclosurePolicy.Default with { Threshold = threshold, ZerosAllowed = zerosAllowed } };

    private static Task<CohortCountResult> Count(CohortCountRequest request, int threshold, params string[] directories) =>
        Count(request, Threshold(threshold), directories);

    private static async Task<CohortCountResult> Count(CohortCountRequest request, NodePolicy policy, params string[] directories)
    {
        var nodes = directories.Select((d, i) => (IFederatedNode)new LocalFederatedNode($"node{i + 1}", d, policy, FederatedAnalyses.BuiltIn())).ToArray();
        var outcome = await new CohortCountCoordinator().CountAsync(nodes, request, TestContext.Current.CancellationToken);
        Assert.Null(outcome.Failure);
        return outcome.Result!;
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public async Task Persons_with_a_condition_are_counted_once_each()
    {
        var result = await Count(new CohortCountRequest { Concept = ViralSinusitis }, 10, OmopFixture.Whole);

        Assert.Equal(23, result.Total);
        Assert.False(result.TotalIsLowerBound);
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task A_count_below_the_threshold_never_leaves_the_node()
    {
        var node = new LocalFederatedNode("n", OmopFixture.Whole, Threshold(10), FederatedAnalyses.BuiltIn());

        var outcome = await node.RunAsync(CohortCountNodeAnalysis.ComponentName, $$"""{"concept": {{OtitisMedia}}}""", TestContext.Current.CancellationToken);

        Assert.Equal("""{"cells":[{"suppressed":true}],"threshold":10}""", outcome.AggregateJson);
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public async Task The_total_over_nodes_is_the_sum_of_released_counts_only()
    {
        var nodes = _cdm.SplitByPerson();

        var all = await Count(new CohortCountRequest { Concept = ViralSinusitis }, 5, nodes);
        var partly = await Count(new CohortCountRequest { Concept = ViralSinusitis }, 7, nodes);
        var none = await Count(new CohortCountRequest { Concept = OtitisMedia }, 5, nodes);

        Assert.Equal(23, all.Total);
        Assert.Equal(new long?[] { 6, 9, 8 }, all.Nodes.Select(n => n.Cells.Single().Count));
        Assert.Equal(17, partly.Total); // node1's 6 is below 7 and adds nothing
        Assert.True(partly.TotalIsLowerBound);
        Assert.Equal(1, partly.Strata.Single().SuppressedAtNodes);
        Assert.Equal(0, none.Total);
        Assert.All(none.Nodes, n => Assert.Null(n.Cells.Single().Count));
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public async Task Counts_are_stratified_by_gender_and_by_age_band_at_the_first_event()
    {
        var byGender = await Count(new CohortCountRequest { Concept = ViralSinusitis, By = ["gender"] }, Threshold(10, zerosAllowed: true), OmopFixture.Whole);
        var byAge = await Count(new CohortCountRequest { Concept = ViralSinusitis, By = ["age"] }, Threshold(3, zerosAllowed: true), OmopFixture.Whole);

        Assert.Equal([("female", 12L), ("male", 11L), ("other", 0L)], byGender.Strata.Select(s => (s.Gender!, s.Count)));
        // 50-59, 60-69 and 70-79 hold one person each: suppressed (together 3, so no further cell is needed). The grid
        // of bands is fixed (0 to 109 and unknown), whatever the data.
        Assert.Equal(
            ["0-9:4", "10-19:6", "20-29:3", "30-39:4", "40-49:3", "50-59:-", "60-69:-", "70-79:-", "80-89:0", "90-99:0", "100-109:0", "unknown:0"],
            byAge.Nodes.Single().Cells.Select(c => $"{c.AgeBand}:{(c.Suppressed ? "-" : c.Count)}"));
        Assert.Equal(20, byAge.Total);
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task An_empty_stratum_is_listed_and_suppressed_when_zeros_are_not_allowed()
    {
        // Nobody of 'other' gender has the condition. Leaving the stratum out would say so; it is listed and suppressed,
        // and male (11) goes with it so that the total minus female cannot give the zero back.
        var result = await Count(new CohortCountRequest { Concept = ViralSinusitis, By = ["gender"] }, 10, OmopFixture.Whole);

        Assert.Equal(["female:12", "male:-", "other:-"], result.Nodes.Single().Cells.Select(c => $"{c.Gender}:{(c.Suppressed ? "-" : c.Count)}"));
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task A_single_suppressed_stratum_takes_the_next_smallest_with_it()
    {
        // male 11 < 12 is suppressed; female 12 alone would give it back as (total − 12), so it is suppressed too.
        var result = await Count(new CohortCountRequest { Concept = ViralSinusitis, By = ["gender"] }, 12, OmopFixture.Whole);

        Assert.All(result.Nodes.Single().Cells, c => Assert.True(c.Suppressed));
        Assert.Equal(0, result.Total);
    }

    [Fact]
    [Trait("Requirement", "FSPER-7")]
    public async Task Descendants_come_from_CONCEPT_ANCESTOR()
    {
        // The sample's CONCEPT_ANCESTOR is empty; this copy makes Acute viral pharyngitis a descendant of Viral sinusitis.
        var directory = _cdm.Copy(("CONCEPT_ANCESTOR", "ancestor_concept_id,descendant_concept_id,min_levels_of_separation,max_levels_of_separation\n40481087,4112343,1,1\n"));

        var without = await Count(new CohortCountRequest { Concept = ViralSinusitis }, 1, directory);
        var with = await Count(new CohortCountRequest { Concept = ViralSinusitis, Descendants = true }, 1, directory);

        Assert.Equal(23, without.Total);
        Assert.Equal(24, with.Total);
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public async Task A_drug_concept_is_counted_in_DRUG_EXPOSURE()
    {
        var concept = long.Parse(OmopFixture.Read("DRUG_EXPOSURE").Split('\n')[1].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);

        var result = await Count(new CohortCountRequest { Concept = concept }, 1, OmopFixture.Whole);

        Assert.True(result.Total >= 1);
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void The_sample_CDM_passes_schema_validation()
    {
        Assert.Empty(CdmDirectory.Validate(OmopFixture.Whole));
    }

    [Theory]
    [Trait("Requirement", "FCR-1")]
    [InlineData("PERSON", "person_id,gender_concept_id,race_concept_id,ethnicity_concept_id\n1,8507,0,0\n", "PERSON.csv lacks the CDM column(s) year_of_birth.")]
    [InlineData("PERSON", "person_id,gender_concept_id,year_of_birth,race_concept_id,ethnicity_concept_id\n1,8507,1990,0,0\n2,8532,nineteen-ninety,0,0\n", "PERSON.csv row 2: year_of_birth is not an integer.")]
    [InlineData("PERSON", "person_id,gender_concept_id,year_of_birth,race_concept_id,ethnicity_concept_id\n1,,1990,0,0\n", "PERSON.csv row 1: gender_concept_id is required and empty.")]
    [InlineData("CONDITION_OCCURRENCE", "condition_occurrence_id,person_id,condition_concept_id,condition_start_date,condition_type_concept_id\n1,1,40481087,15/05/2020,0\n", "CONDITION_OCCURRENCE.csv row 1: condition_start_date is not a date (YYYY-MM-DD).")]
    [InlineData("PERSON", null, "The CDM table PERSON is missing (no PERSON.csv).")]
    public async Task A_CDM_that_breaks_the_schema_is_refused_naming_file_column_and_row_but_no_value(string table, string? content, string message)
    {
        var directory = _cdm.Copy((table, content));
        var node = new LocalFederatedNode("n", directory, NodePolicy.Default, FederatedAnalyses.BuiltIn());

        var outcome = await node.RunAsync(CohortCountNodeAnalysis.ComponentName, $$"""{"concept": {{ViralSinusitis}}}""", TestContext.Current.CancellationToken);

        Assert.Null(outcome.AggregateJson);
        Assert.Equal(FederationAnalysisCodes.DatasetUnusable, outcome.Refusal?.Code);
        Assert.Equal(message, outcome.Refusal!.Message);
        Assert.Contains(message, CdmDirectory.Validate(directory));
    }

    [Theory]
    [Trait("Requirement", "FCR-1")]
    [InlineData("""{"concept": 40481087, "by": ["zip"]}""", "SPE7050")]
    [InlineData("""{"concept": "40481087"}""", "SPE7050")]
    [InlineData("""{"concept": 40481087, "ageBandYears": 0}""", "SPE7050")]
    [InlineData("""{"concept": 999999999}""", "SPE7051")]
    public async Task Bad_count_requests_are_refused(string parameters, string code)
    {
        var node = new LocalFederatedNode("n", OmopFixture.Whole, NodePolicy.Default, FederatedAnalyses.BuiltIn());

        var outcome = await node.RunAsync(CohortCountNodeAnalysis.ComponentName, parameters, TestContext.Current.CancellationToken);

        Assert.Equal(code, outcome.Refusal?.Code);
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public async Task Json_of_a_count_names_total_strata_and_nodes()
    {
        var result = await Count(new CohortCountRequest { Concept = ViralSinusitis, By = ["gender"] }, Threshold(10, zerosAllowed: true), OmopFixture.Whole);

        using var json = System.Text.Json.JsonDocument.Parse(result.ToJson());
        Assert.Equal(23, json.RootElement.GetProperty("total").GetInt64());
        Assert.Equal(3, json.RootElement.GetProperty("strata").GetArrayLength());
        Assert.Equal("node1", json.RootElement.GetProperty("nodes")[0].GetProperty("name").GetString());
    }
}
