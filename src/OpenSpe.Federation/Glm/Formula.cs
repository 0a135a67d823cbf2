namespace OpenSpe.Federation.Glm;

/// <summary>A variable of a formula: a table column used as a number, or as a factor (<c>factor(x)</c>).</summary>
/// <param name="Column">The table column.</param>
/// <param name="IsFactor">Whether it enters as a factor with treatment contrasts.</param>
internal sealed record FormulaVariable(string Column, bool IsFactor)
{
    /// <summary>The name R prints for it: <c>x</c> or <c>factor(x)</c>.</summary>
    public string Label => IsFactor ? $"factor({Column})" : Column;
}

/// <summary>A model term: one or more variables multiplied (<c>a</c>, <c>a:b</c>), by index into <see cref="Formula.Variables"/>.</summary>
/// <param name="Variables">Variable indexes in formula order, as R orders them in a term's label.</param>
internal sealed record FormulaTerm(IReadOnlyList<int> Variables)
{
    /// <summary>The term's bit set over variable indexes.</summary>
    public ulong Mask => Variables.Aggregate(0UL, (m, v) => m | (1UL << v));
}

/// <summary>
/// A parsed R model formula: the response, the variables in order of first appearance (the response first, as R's
/// <c>terms()</c> orders them), the terms ordered as R orders them (by degree, then by appearance) and the intercept.
/// </summary>
internal sealed class Formula
{
    public Formula(string text, IReadOnlyList<FormulaVariable> variables, IReadOnlyList<FormulaTerm> terms, bool hasIntercept)
    {
        Text = text;
        Variables = variables;
        Terms = terms;
        HasIntercept = hasIntercept;
    }

    /// <summary>The formula as given.</summary>
    public string Text { get; }

    /// <summary>Every variable; index 0 is the response.</summary>
    public IReadOnlyList<FormulaVariable> Variables { get; }

    /// <summary>The response variable.</summary>
    public FormulaVariable Response => Variables[0];

    /// <summary>The model terms in R's order, without the intercept.</summary>
    public IReadOnlyList<FormulaTerm> Terms { get; }

    /// <summary>Whether the model has an intercept (absent with <c>- 1</c> or <c>+ 0</c>).</summary>
    public bool HasIntercept { get; }

    /// <summary>The label R prints for <paramref name="term"/>, e.g. <c>GENDER:PM_BMI_CONTINUOUS</c>.</summary>
    public string Label(FormulaTerm term) => string.Join(':', term.Variables.Select(v => Variables[v].Label));

    /// <summary>The distinct table columns the model uses (the response first), for complete cases.</summary>
    public IReadOnlyList<string> Columns => Variables.Select(v => v.Column).Distinct(StringComparer.Ordinal).ToArray();
}
