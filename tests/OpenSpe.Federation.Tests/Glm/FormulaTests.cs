using OpenSpe.Federation.Data;
using OpenSpe.Federation.Glm;

namespace OpenSpe.Federation.Tests.Glm;

/// <summary>
/// Formulas parsed and coded as R does. The expected names come from R on this machine:
/// <c>attr(terms(FORMULA), "term.labels")</c> and <c>colnames(model.matrix(FORMULA, d))</c> with
/// <c>d &lt;- data.frame(y=1:6, a=c(1,2,3,1,2,3), z=c(1.5,2,3,4,5,7), b=c(1,1,2,2,1,2))</c>.
/// </summary>
public sealed class FormulaTests
{
    private const string Data = "y,a,z,b\n1,1,1.5,1\n2,2,2,1\n3,3,3,2\n4,1,4,2\n5,2,5,1\n6,3,7,2\n";

    private static IReadOnlyList<string> Columns(string formula) =>
        DesignMatrix.Build(FormulaParser.Parse(formula), LocalTable.Read(new StringReader(Data), "d"), GlmFamily.Parse("gaussian")!).ColumnNames;

    private static IReadOnlyList<string> Labels(string formula)
    {
        var parsed = FormulaParser.Parse(formula);
        return [.. parsed.Terms.Select(parsed.Label)];
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public void Star_expands_to_main_effects_and_interactions_in_Rs_order()
    {
        Assert.Equal(["a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"], Labels("y ~ a*b*c - 1"));
        Assert.False(FormulaParser.Parse("y ~ a*b*c - 1").HasIntercept);
        Assert.Equal(["GENDER", "PM_BMI_CONTINUOUS", "LAB_HDL", "GENDER:PM_BMI_CONTINUOUS"], Labels("DIS_DIAB ~ GENDER*PM_BMI_CONTINUOUS + LAB_HDL"));
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public void Interaction_labels_follow_the_order_variables_first_appear()
    {
        Assert.Equal(["a", "b:a"], Labels("y ~ b:a + a"));
        Assert.Equal(["a", "b", "a:b"], Labels("y ~ (a + b):a + b + a"));
    }

    [Theory]
    [Trait("Requirement", "FCR-5")]
    [InlineData("y ~ z + factor(a):z", "(Intercept)|z|z:factor(a)2|z:factor(a)3")]
    [InlineData("y ~ factor(a)*factor(b)", "(Intercept)|factor(a)2|factor(a)3|factor(b)2|factor(a)2:factor(b)2|factor(a)3:factor(b)2")]
    [InlineData("y ~ factor(a):factor(b)", "(Intercept)|factor(a)1:factor(b)1|factor(a)2:factor(b)1|factor(a)3:factor(b)1|factor(a)1:factor(b)2|factor(a)2:factor(b)2|factor(a)3:factor(b)2")]
    [InlineData("y ~ 0 + factor(a)", "factor(a)1|factor(a)2|factor(a)3")]
    [InlineData("y ~ z:factor(a) + factor(a)", "(Intercept)|factor(a)2|factor(a)3|z:factor(a)1|z:factor(a)2|z:factor(a)3")]
    [InlineData("y ~ z - 1", "z")]
    [InlineData("y ~ -1 + z", "z")]
    [InlineData("y ~ z + 0", "z")]
    [InlineData("y ~ 1", "(Intercept)")]
    public void Model_matrix_columns_are_named_as_R_names_them(string formula, string expected)
    {
        Assert.Equal(expected.Split('|'), Columns(formula));
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public void Interaction_columns_multiply_their_parts_with_the_first_factor_varying_fastest()
    {
        var design = DesignMatrix.Build(FormulaParser.Parse("y ~ factor(a):z"), LocalTable.Read(new StringReader(Data), "d"), GlmFamily.Parse("gaussian")!);

        // Row 3: a = 3, z = 3 → (Intercept) 1, factor(a)1:z 0, factor(a)2:z 0, factor(a)3:z 3.
        Assert.Equal(["(Intercept)", "factor(a)1:z", "factor(a)2:z", "factor(a)3:z"], design.ColumnNames);
        Assert.Equal([1.0, 0, 0, 3], design.X.AsSpan(2 * 4, 4).ToArray());
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public void Complete_cases_count_only_the_variables_the_model_uses()
    {
        var csv = "y,x,unused\n1,2,\n,3,1\n2,,1\n3,4,NA\n\"4\",\"5\",1\n";

        var design = DesignMatrix.Build(FormulaParser.Parse("y ~ x"), LocalTable.Read(new StringReader(csv), "t"), GlmFamily.Parse("gaussian")!);

        Assert.Equal(3, design.NValid);
        Assert.Equal(2, design.NMissing);
        Assert.Equal([1.0, 3, 4], design.Y);
    }

    [Theory]
    [Trait("Requirement", "FCR-5")]
    [InlineData("y ~ log(x)", "log() is not supported")]
    [InlineData("y ~ .", "'.'")]
    [InlineData("y ~ x^2", "unexpected '^'")]
    [InlineData("~ x", "unexpected '~'")]
    [InlineData("y ~ x +", "a term is missing")]
    [InlineData("y ~ (x + z", "')' is missing")]
    [InlineData("y ~ y + x", "response cannot also be a term")]
    [InlineData("factor(y) ~ x", "one column name")]
    [InlineData("y ~ 2", "the number 2")]
    [InlineData("y ~ a*b*c*d*e*f*g*h*i", "more than 256 terms")]
    [InlineData("y ~ 0", "no coefficients: keep the intercept or add a term")]
    [InlineData("y ~ -1", "no coefficients")]
    [InlineData("y ~ x - x - 1", "no coefficients")]
    [InlineData("y ~ 1 + 0", "no coefficients")]
    public void Formulas_outside_the_supported_subset_are_refused_with_the_reason(string formula, string reason)
    {
        var error = Assert.Throws<FormatException>(() => FormulaParser.Parse(formula));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public void A_model_with_too_many_columns_is_refused_before_its_matrix_is_made()
    {
        var csv = "y,f,g\n" + string.Concat(Enumerable.Range(0, 2000).Select(i => $"{i % 2},{i},{i % 7}\n"));

        var error = Assert.Throws<InvalidDataException>(() =>
            DesignMatrix.Build(FormulaParser.Parse("y ~ factor(f):factor(g)"), LocalTable.Read(new StringReader(csv), "t"), GlmFamily.Parse("gaussian")!));

        Assert.Contains("more than 1000 columns", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Requirement", "FCR-5")]
    [InlineData(100_000, "longer than")]
    [InlineData(5_000, "parentheses nest more than 32 deep: remove")]
    [InlineData(FormulaParser.MaxDepth + 1, "parentheses nest more than 32 deep")]
    public void Parentheses_nested_too_deep_are_refused_with_the_reason_instead_of_overflowing_the_stack(int depth, string reason)
    {
        // Note: before the bounds 65,000 levels overflowed the stack, which no catch stops: it ended the whole process.
        var formula = "y ~ " + new string('(', depth) + "x" + new string(')', depth);

        var error = Assert.Throws<FormatException>(() => FormulaParser.Parse(formula));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public void Parentheses_nested_to_the_bound_still_parse_and_the_bound_counts_depth_not_pairs()
    {
        var deepest = "y ~ " + new string('(', FormulaParser.MaxDepth) + "a + b" + new string(')', FormulaParser.MaxDepth);
        var many = "y ~ " + string.Join(" + ", Enumerable.Repeat("((a))", FormulaParser.MaxDepth * 4));

        Assert.Equal(["a", "b"], Labels(deepest));
        Assert.Equal(["a"], Labels(many));
        Assert.Equal(["a"], Labels("((y)) ~ " + new string('(', FormulaParser.MaxDepth) + "a" + new string(')', FormulaParser.MaxDepth)));
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public void A_formula_longer_than_the_bound_is_refused_before_it_is_parsed()
    {
        var formula = "y ~ x" + new string(' ', FormulaParser.MaxLength);

        var error = Assert.Throws<FormatException>(() => FormulaParser.Parse(formula));

        Assert.Contains($"longer than {FormulaParser.MaxLength} characters", error.Message, StringComparison.Ordinal);
        Assert.Equal(["x"], Labels("y ~ x" + new string(' ', FormulaParser.MaxLength - 5)));
    }
}
