namespace OpenSpe.Federation.Omop;

/// <summary>The type a CDM column is checked and stored as.</summary>
internal enum CdmType
{
    /// <summary>A whole number (CDM <c>integer</c> and <c>bigint</c>), stored as BIGINT.</summary>
    Integer,

    /// <summary>A date (CDM <c>date</c>, ISO 8601), stored as DATE.</summary>
    Date,

    /// <summary>Text (CDM <c>varchar</c>).</summary>
    Text,
}

/// <summary>A column the loader needs: its CDM name, type, and whether the CDM requires a value.</summary>
internal sealed record CdmColumn(string Name, CdmType Type, bool Required);

/// <summary>A CDM table the loader knows: the columns it checks and keeps (other columns of the file are ignored).</summary>
internal sealed record CdmTable(string Name, IReadOnlyList<CdmColumn> Columns);

/// <summary>
/// The parts of OMOP CDM v5.4 the cohort counts use, with the types and required flags of the CDM specification. A
/// holder's file is named after its table (<c>PERSON.csv</c>, any case) with one header row. Another common data model is
/// added by describing its tables the same way (docs/federation.md).
/// </summary>
internal static class CdmSchema
{
    public static CdmTable Person { get; } = new("person",
    [
        new("person_id", CdmType.Integer, true),
        new("gender_concept_id", CdmType.Integer, true),
        new("year_of_birth", CdmType.Integer, true),
        new("race_concept_id", CdmType.Integer, true),
        new("ethnicity_concept_id", CdmType.Integer, true),
    ]);

    public static CdmTable Concept { get; } = new("concept",
    [
        new("concept_id", CdmType.Integer, true),
        new("concept_name", CdmType.Text, true),
        new("domain_id", CdmType.Text, true),
        new("vocabulary_id", CdmType.Text, true),
        new("concept_class_id", CdmType.Text, true),
        new("concept_code", CdmType.Text, true),
        new("valid_start_date", CdmType.Date, true),
        new("valid_end_date", CdmType.Date, true),
    ]);

    public static CdmTable ConceptAncestor { get; } = new("concept_ancestor",
    [
        new("ancestor_concept_id", CdmType.Integer, true),
        new("descendant_concept_id", CdmType.Integer, true),
        new("min_levels_of_separation", CdmType.Integer, true),
        new("max_levels_of_separation", CdmType.Integer, true),
    ]);

    /// <summary>The event tables by concept domain: table, its concept column and its start date column.</summary>
    public static IReadOnlyDictionary<string, CdmEventTable> EventTables { get; } = new Dictionary<string, CdmEventTable>(StringComparer.Ordinal)
    {
        ["Condition"] = Event("condition_occurrence", "condition", "condition_start_date"),
        ["Drug"] = Event("drug_exposure", "drug", "drug_exposure_start_date"),
        ["Procedure"] = Event("procedure_occurrence", "procedure", "procedure_date"),
        ["Measurement"] = Event("measurement", "measurement", "measurement_date"),
        ["Observation"] = Event("observation", "observation", "observation_date"),
    };

    /// <summary>Every table the loader checks when it validates a whole CDM directory.</summary>
    public static IReadOnlyList<CdmTable> All { get; } = [Person, Concept, ConceptAncestor, .. EventTables.Values.Select(e => e.Table)];

    private static CdmEventTable Event(string table, string prefix, string dateColumn) => new(
        new CdmTable(table,
        [
            new(table + "_id", CdmType.Integer, true),
            new("person_id", CdmType.Integer, true),
            new(prefix + "_concept_id", CdmType.Integer, true),
            new(dateColumn, CdmType.Date, true),
            new(prefix + "_type_concept_id", CdmType.Integer, true),
        ]),
        prefix + "_concept_id",
        dateColumn);
}

/// <summary>An event table of a concept domain, with the columns a cohort count reads.</summary>
internal sealed record CdmEventTable(CdmTable Table, string ConceptColumn, string DateColumn);
