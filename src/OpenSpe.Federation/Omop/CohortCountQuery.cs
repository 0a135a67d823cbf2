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
        var band = byAge
            ? $"CASE WHEN {age} IS NULL OR {age} < 0 THEN 'unknown' ELSE CAST(({age} // {width}) * {width} AS VARCHAR) || '-' || CAST(({age} // {width}) * {width} + {width} - 1 AS VARCHAR) END"
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
            ORDER BY gender, min({age}) NULLS LAST, age_band
            """;
        var rows = database.Query(sql);
        if (!byGender && !byAge && rows.Count == 0)
        {
            return [(null, null, 0)];
        }

        return [.. rows.Select(r => ((string?)r[0], (string?)r[1], Convert.ToInt64(r[2], CultureInfo.InvariantCulture)))];
    }
}
