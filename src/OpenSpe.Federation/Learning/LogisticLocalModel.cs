using System.Numerics;
using OpenSpe.Federation.Glm;

namespace OpenSpe.Federation.Learning;

/// <summary>
/// A node's rows for logistic regression (its model matrix, scaled as the request says) and the arithmetic of one round:
/// local gradient steps from the global parameters, then L2 clipping and truncation of the change to integer units.
/// </summary>
internal sealed class LogisticLocalModel
{
    private readonly double[] _x;
    private readonly double[] _y;

    public LogisticLocalModel(DesignMatrix design, IReadOnlyList<double> centers, IReadOnlyList<double> scales)
    {
        Columns = design.ColumnNames;
        Rows = design.NValid;
        _y = design.Y;
        _x = (double[])design.X.Clone();
        var p = Columns.Count;
        for (var i = 0; i < Rows; i++)
        {
            for (var j = 0; j < p; j++)
            {
                _x[(i * p) + j] = (_x[(i * p) + j] - centers[j]) / scales[j];
            }
        }
    }

    /// <summary>The model's columns, as R names them.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Complete rows.</summary>
    public int Rows { get; }

    /// <summary>The change <c>epochs</c> full-batch gradient steps on the mean log-loss make to <paramref name="global"/>.</summary>
    public double[] LocalChange(ReadOnlySpan<double> global, int epochs, double learningRate)
    {
        var p = Columns.Count;
        var beta = global.ToArray();
        var gradient = new double[p];
        for (var e = 0; e < epochs; e++)
        {
            Array.Clear(gradient);
            for (var i = 0; i < Rows; i++)
            {
                var row = _x.AsSpan(i * p, p);
                var eta = 0.0;
                for (var j = 0; j < p; j++)
                {
                    eta += row[j] * beta[j];
                }

                var residual = Sigmoid(eta) - _y[i];
                for (var j = 0; j < p; j++)
                {
                    gradient[j] += residual * row[j];
                }
            }

            for (var j = 0; j < p; j++)
            {
                beta[j] -= learningRate * gradient[j] / Rows;
            }
        }

        for (var j = 0; j < p; j++)
        {
            beta[j] -= global[j];
        }

        return beta;
    }

    /// <summary>
    /// The change in units of <paramref name="granularity"/>, scaled down to L2 norm at most <paramref name="clipUnits"/>
    /// and truncated toward zero, with the bound checked exactly on the integers.
    /// </summary>
    public static long[] ClipToUnits(ReadOnlySpan<double> change, double granularity, long clipUnits)
    {
        var scaled = new double[change.Length];
        var norm = 0.0;
        for (var j = 0; j < change.Length; j++)
        {
            scaled[j] = double.IsFinite(change[j]) ? change[j] / granularity : 0;
            norm += scaled[j] * scaled[j];
        }

        norm = Math.Sqrt(norm);
        var factor = norm > clipUnits ? clipUnits / norm : 1.0;
        var units = new long[change.Length];
        for (var j = 0; j < change.Length; j++)
        {
            // Note: truncation toward zero never makes a coordinate larger, so the integer vector is no longer than the
            // clipped one; the exact check below covers the last bits of the double's rounding.
            var value = Math.Truncate(scaled[j] * factor);
            units[j] = double.IsFinite(value) ? (long)Math.Clamp(value, -clipUnits, clipUnits) : 0;
        }

        var bound = BigInteger.Pow(clipUnits, 2);
        while (SquaredNorm(units) > bound)
        {
            var largest = 0;
            for (var j = 1; j < units.Length; j++)
            {
                largest = Math.Abs(units[j]) > Math.Abs(units[largest]) ? j : largest;
            }

            units[largest] -= Math.Sign(units[largest]);
        }

        return units;
    }

    /// <summary>Σ uᵢ², exactly.</summary>
    public static BigInteger SquaredNorm(ReadOnlySpan<long> units)
    {
        var sum = BigInteger.Zero;
        foreach (var u in units)
        {
            sum += new BigInteger(u) * u;
        }

        return sum;
    }

    private static double Sigmoid(double eta) => eta >= 0 ? 1 / (1 + Math.Exp(-eta)) : Math.Exp(eta) / (1 + Math.Exp(eta));
}
