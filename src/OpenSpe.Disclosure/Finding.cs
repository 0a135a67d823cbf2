namespace OpenSpe.Disclosure;

/// <summary>
/// One thing a rule found in a file. <see cref="Positions"/> name cells ("row 3, column yes"), rows ("row 7") or places in
/// text ("line 4, column 12"); never a value, because a report is read outside the SPE.
/// </summary>
/// <param name="Rule">A stable rule name, for example <c>frequency.threshold</c> (docs/disclosure.md lists them).</param>
/// <param name="Reason">Why, in words, with the policy parameter that decided.</param>
/// <param name="Positions">Where in the file.</param>
/// <param name="Severity">Whether the finding fails the file or sends it to review.</param>
public sealed record Finding(string Rule, string Reason, IReadOnlyList<string> Positions, DisclosureStatus Severity);
