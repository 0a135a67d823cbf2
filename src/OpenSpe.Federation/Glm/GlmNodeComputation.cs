namespace OpenSpe.Federation.Glm;

/// <summary>One IRLS step's sums at a node: XᵀWX, XᵀWu, deviance and Pearson χ² at β (the arithmetic of <c>glmDS2</c>).</summary>
internal static class GlmNodeComputation
{
    /// <summary>The node's contribution at <paramref name="beta"/>; the caller has checked the traps and β's length.</summary>
    public static GlmContribution Compute(DesignMatrix design, GlmFamily family, ReadOnlySpan<double> beta)
    {
        var p = design.P;
        var n = design.NValid;
        var information = new double[p * p];
        var score = new double[p];
        double deviance = 0, pearson = 0;
        var x = design.X;
        for (var i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * p, p);
            var eta = 0.0;
            for (var j = 0; j < p; j++)
            {
                eta += row[j] * beta[j];
            }

            var mu = family.InverseLink(eta);
            var muEta = family.MuEta(eta);
            var variance = family.Variance(mu);
            var y = design.Y[i];
            var w = muEta * muEta / variance;
            // w·u = w·(y − μ)/(dμ/dη) = (dμ/dη)(y − μ)/V(μ): written this way there is no division by a tiny dμ/dη.
            var wu = muEta * (y - mu) / variance;
            deviance += family.UnitDeviance(y, mu);
            pearson += (y - mu) * (y - mu) / variance;
            for (var j = 0; j < p; j++)
            {
                var wxj = w * row[j];
                if (wxj == 0)
                {
                    continue;
                }

                score[j] += row[j] * wu;
                var target = information.AsSpan(j * p, p);
                for (var k = j; k < p; k++)
                {
                    target[k] += wxj * row[k];
                }
            }
        }

        var rows = new double[p][];
        for (var j = 0; j < p; j++)
        {
            rows[j] = new double[p];
            for (var k = 0; k < p; k++)
            {
                rows[j][k] = k >= j ? information[(j * p) + k] : information[(k * p) + j];
            }
        }

        return new GlmContribution
        {
            Columns = design.ColumnNames,
            Information = rows,
            Score = score,
            Deviance = deviance,
            PearsonChiSquare = pearson,
            NValid = n,
            NMissing = design.NMissing,
        };
    }
}
