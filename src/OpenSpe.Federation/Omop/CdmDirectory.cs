namespace OpenSpe.Federation.Omop;

/// <summary>Checks a holder's whole OMOP CDM directory against the schema, e.g. when the dataset arrives.</summary>
public static class CdmDirectory
{
    /// <summary>
    /// The problems of the CDM files in <paramref name="directory"/>: PERSON and CONCEPT must be present, and every known
    /// table present must have its columns and value types. Empty when the directory is a usable CDM.
    /// </summary>
    public static IReadOnlyList<string> Validate(string directory)
    {
        var problems = new List<string>();
        using var database = CdmDatabase.Open(directory);
        foreach (var table in CdmSchema.All)
        {
            var required = table == CdmSchema.Person || table == CdmSchema.Concept;
            if (!required && database.FileOf(table) is null)
            {
                continue;
            }

            try
            {
                database.Load(table);
            }
            catch (CdmSchemaException e)
            {
                problems.Add(e.Message);
            }
        }

        return problems;
    }
}
