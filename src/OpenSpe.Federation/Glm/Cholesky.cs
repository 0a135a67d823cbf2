namespace OpenSpe.Federation.Glm;

/// <summary>
/// The Cholesky factor L (A = LLᵀ) of a symmetric positive definite matrix, for the coordinator's Newton step and the
/// covariance. A pivot at or below a relative tolerance means the columns are collinear (aliased), which is reported.
/// </summary>
internal sealed class Cholesky
{
    private const double RelativeTolerance = 1e-10;
    private readonly double[] _l;
    private readonly int _n;

    private Cholesky(double[] l, int n)
    {
        _l = l;
        _n = n;
    }

    /// <summary>Factors <paramref name="a"/> (n × n, row-major); null with the first aliased column when it is not positive definite.</summary>
    public static Cholesky? TryFactor(double[] a, int n, out int aliasedColumn)
    {
        aliasedColumn = -1;
        var l = new double[n * n];
        for (var j = 0; j < n; j++)
        {
            var sum = a[(j * n) + j];
            for (var k = 0; k < j; k++)
            {
                sum -= l[(j * n) + k] * l[(j * n) + k];
            }

            // Note: compared with the column's own diagonal, because the scale of the columns differs by orders of magnitude.
            if (!(sum > RelativeTolerance * Math.Abs(a[(j * n) + j])) || !double.IsFinite(sum))
            {
                aliasedColumn = j;
                return null;
            }

            var d = Math.Sqrt(sum);
            l[(j * n) + j] = d;
            for (var i = j + 1; i < n; i++)
            {
                var s = a[(i * n) + j];
                for (var k = 0; k < j; k++)
                {
                    s -= l[(i * n) + k] * l[(j * n) + k];
                }

                l[(i * n) + j] = s / d;
            }
        }

        return new Cholesky(l, n);
    }

    /// <summary>Solves A x = b.</summary>
    public double[] Solve(ReadOnlySpan<double> b)
    {
        var x = b.ToArray();
        for (var i = 0; i < _n; i++)
        {
            var s = x[i];
            for (var k = 0; k < i; k++)
            {
                s -= _l[(i * _n) + k] * x[k];
            }

            x[i] = s / _l[(i * _n) + i];
        }

        for (var i = _n - 1; i >= 0; i--)
        {
            var s = x[i];
            for (var k = i + 1; k < _n; k++)
            {
                s -= _l[(k * _n) + i] * x[k];
            }

            x[i] = s / _l[(i * _n) + i];
        }

        return x;
    }

    /// <summary>The diagonal of A⁻¹ (the unscaled variances of the estimates).</summary>
    public double[] InverseDiagonal()
    {
        var result = new double[_n];
        var unit = new double[_n];
        for (var j = 0; j < _n; j++)
        {
            unit[j] = 1;
            result[j] = Solve(unit)[j];
            unit[j] = 0;
        }

        return result;
    }
}
