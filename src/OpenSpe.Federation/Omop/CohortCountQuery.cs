using System.Globalization;

namespace OpenSpe.Federation.Omop;

/// <summary>
/// Counts distinct persons with an event of a concept (and, when asked, of its descendants by CONCEPT_ANCESTOR) in the
/// concept's domain table, optionally by gender and by age band at the person's first such event. The concept itself
/// always counts, because CONCEPT_ANCESTOR's row linking a concept to itself is often left out of extracts.
/// </summary>
internal static class CohortCountQuery
{
    /// <summary>The raw counts per stratum (no suppression yet); loads the tables it needs into <paramref name="database"/>.</summary>
    /// <exception cref="CdmSchemaException">A table needed is missing or invalid, or the concept is unknown.</exception>
    public static List<(string? Gender, string? AgeBand, long Count)> Run(CdmDatabase database, CohortCountRequest request)
    {
        database.Load(CdmSchema.Concept);
        var concept = request.Concept.ToString(CultureInfo.InvariantCulture);
        var domain = database.Query($"SELECT domain_id FROM concept WHERE concept_id = {concept}") is [[string d]] ? d : null;
        if (domain is null)
        {
            throw new CdmSchemaException($"Concept {concept} is not in this node's CONCEPT table.");
        }

        if (!CdmSchema.EventTables.TryGetValue(domain, out var events))
        {
            throw new CdmSchemaException($"Concept {concept} is in the domain '{domain}', which cohort counts do not cover (Condition, Drug, Procedure, Measurement, Observation).");
        }

        database.Load(CdmSchema.Person);
        database.Load(events.Table);
        var concepts = $"SELECT {concept} AS concept_id";
        if (request.Descendants)
        {
            database.Load(CdmSchema.ConceptAncestor);
            concepts += $" UNION SELECT descendant_concept_id FROM concept_ancestor WHERE ancestor_concept_id = {concept}";
        }

        var byGender = request.By?.Contains("gender") == true;
        var byAge = request.By?.Contains("age") == true;
        var width = request.AgeBandYears.ToString(CultureInfo.InvariantCulture);
        var gender = byGender
            ? "CASE p.gender_concept_id WHEN 8507 THEN 'male' WHEN 8532 THEN 'female' ELSE 'other' END"
            : "NULL";
        var age = "(year(f.first_date) - p.year_of_birth)";
        var bands = AgeBands(request.AgeBandYears);
        var upper = (bands.Count * request.AgeBandYears).ToString(CultureInfo.InvariantCulture);
        var band = byAge
            ? $"CASE WHEN {age} IS NULL OR {age} < 0 OR {age} >= {upper} THEN 'unknown' ELSE CAST(({age} // {width}) * {width} AS VARCHAR) || '-' || CAST(({age} // {width}) * {width} + {width} - 1 AS VARCHAR) END"
            : "NULL";
        var sql = $"""
            WITH concepts AS ({concepts}),
            firsts AS (
                SELECT e.person_id, min(e.{events.DateColumn}) AS first_date
                FROM {events.Table.Name} e JOIN concepts c ON e.{events.ConceptColumn} = c.concept_id
                GROUP BY e.person_id)
            SELECT {gender} AS gender, {band} AS age_band, count(DISTINCT f.person_id) AS n
            FROM firsts f JOIN person p ON p.person_id = f.person_id
            GROUP BY ALL
            """;
        var counts = database.Query(sql).ToDictionary(r => ((string?)r[0] ?? string.Empty, (string?)r[1] ?? string.Empty), r => Convert.ToInt64(r[2], CultureInfo.InvariantCulture));

        // Note: every stratum of a grid fixed in advance is listed, the empty ones with 0, because a stratum left out
        // would say "nobody" as plainly as a zero; suppression then decides whether zeros may leave.
        string?[] genders = byGender ? [.. Genders] : [null];
        string?[] ages = byAge ? [.. bands, "unknown"] : [null];
        return [.. genders.SelectMany(g => ages.Select(a => (g, a, counts.GetValueOrDefault((g ?? string.Empty, a ?? string.Empty)))))];
    }

    /// <summary>The gender strata: OMOP's 8507 and 8532, and every other concept.</summary>
    private static readonly string[] Genders = ["female", "male", "other"];

    /// <summary>The age bands of width <paramref name="years"/> from 0 up to the first band that reaches 110 years.</summary>
    private static List<string> AgeBands(int years)
    {
        var bands = new List<string>();
        for (var start = 0; start < 110; start += years)
        {
            bands.Add($"{start.ToString(CultureInfo.InvariantCulture)}-{(start + years - 1).ToString(CultureInfo.InvariantCulture)}");
        }

        return bands;
    }
}
