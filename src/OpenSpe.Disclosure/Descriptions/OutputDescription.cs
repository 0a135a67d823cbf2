namespace OpenSpe.Disclosure.Descriptions;

/// <summary>What an output file is, so the right rules can check it (the <c>outputs[]</c> entries of a description).</summary>
/// <param name="File">The file's name as submitted (matched against the checked files' names).</param>
public abstract record OutputDescription(string File);

/// <summary>A frequency table: a CSV with a header whose count columns hold non-negative integers.</summary>
/// <param name="File">The file name.</param>
/// <param name="LabelColumns">The columns that label the cells.</param>
/// <param name="CountColumns">The count columns; null: every column not in <paramref name="LabelColumns"/>.</param>
public sealed record FrequencyDescription(string File, IReadOnlyList<string> LabelColumns, IReadOnlyList<string>? CountColumns) : OutputDescription(File);

/// <summary>A magnitude table (sums, means) with the contributions behind each cell in a separate CSV that never leaves.</summary>
/// <param name="File">The file name.</param>
/// <param name="Contributions">The contributions CSV, one row per contributor, relative to the output's directory.</param>
/// <param name="CellColumns">The columns that name a cell, in both files.</param>
/// <param name="ValueColumn">The contributions file's column with each contributor's value.</param>
public sealed record MagnitudeDescription(string File, string Contributions, IReadOnlyList<string> CellColumns, string ValueColumn) : OutputDescription(File);

/// <summary>A regression's results.</summary>
/// <param name="File">The file name.</param>
/// <param name="Observations">Observations the model was fitted on.</param>
/// <param name="Parameters">Parameters estimated.</param>
public sealed record RegressionDescription(string File, long Observations, long Parameters) : OutputDescription(File);

/// <summary>A survival (Kaplan–Meier) table.</summary>
/// <param name="File">The file name.</param>
/// <param name="AtRiskColumn">The column with the number at risk, one row per time.</param>
public sealed record SurvivalDescription(string File, string AtRiskColumn) : OutputDescription(File);

/// <summary>A record-level file checked for k-anonymity and distinct l-diversity.</summary>
/// <param name="File">The file name.</param>
/// <param name="QuasiIdentifiers">The quasi-identifier columns that form equivalence classes.</param>
/// <param name="Sensitive">The sensitive columns, each of which must be l-diverse in every class.</param>
public sealed record RecordsDescription(string File, IReadOnlyList<string> QuasiIdentifiers, IReadOnlyList<string> Sensitive) : OutputDescription(File);

/// <summary>A figure, checked as the table it is drawn from.</summary>
/// <param name="File">The file name.</param>
/// <param name="BasedOn">The described table the figure shows.</param>
public sealed record FigureDescription(string File, string BasedOn) : OutputDescription(File);

/// <summary>Free text (notes, code): scanned for direct identifiers only.</summary>
/// <param name="File">The file name.</param>
public sealed record TextDescription(string File) : OutputDescription(File);
