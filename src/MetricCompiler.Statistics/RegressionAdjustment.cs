using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace MetricCompiler.Statistics;

/// <summary>
/// Regression adjustment with a vector of k covariates (the multiple-regression extension of CUPED that Deng, Xu,
/// Kohavi, Walker 2013 describe; "CUPED++"/"CURE" in some vendors' terms), from sufficient statistics only. It is the
/// pooled-theta CUPED formulation, the single-covariate path of <see cref="PairEstimator"/> generalised:
/// <list type="number">
/// <item>theta = Sxx^+ Sxy on the pooled units of the two arms compared (ignoring the assignment), with Sxx, Sxy the
/// pooled centred cross-products: the slope of the OLS fit y ~ 1 + x on the pooled units. Sxx^+ is the
/// Moore-Penrose pseudo-inverse, computed on the correlation scale (so the rank decision does not depend on the
/// covariates' units); constant covariates get theta 0. theta = 0 when y is constant.</item>
/// <item>Each arm's adjusted values y - theta'x have the per-unit variance
/// s2_adj = s2_Y + theta' S_X theta - 2 theta' s_XY (n - 1 divisors, within the arm), and
/// Delta_adj = (m_YB - theta' m_XB) - (m_YA - theta' m_XA) is tested with Welch's SE and df on s2_adj, theta held
/// fixed. This equals the HC2 standard error of the coefficient of the treatment indicator in the OLS fit of
/// y - theta'x on an intercept and the indicator (for a two-group design HC2 is exactly Welch's variance).</item>
/// <item>The relative lift Delta_adj / |m_YA| has gbstats' relative CUPED variance (frequentist_variance_relative_cuped)
/// with a vector theta: s2_adj,B/(n_B m_YA^2) + [s2_YA m_YB^2/m_YA^2 - 2 (m_YB/m_YA) theta' s_XY,A + theta' S_X,A theta]/(n_A m_YA^2).</item>
/// </list>
/// With k = 1 every figure equals the single-covariate CUPED path.
/// </summary>
internal static class RegressionAdjustment
{
    /// <summary>Eigenvalues of the covariates' correlation matrix below this fraction of the largest are treated as 0.</summary>
    internal const double RankTolerance = 1e-9;

    private const double InconsistentRelative = 1e-9;

    public static PairEstimate Estimate(
        MetricInput metric, VariantStatistics a, VariantStatistics b, bool proportion, string control, string variant,
        string tag, List<string> warnings, PairEstimate empty)
    {
        var ca = a.Covariates!;
        var cb = b.Covariates!;
        var k = ca.Count;
        var names = metric.CovariateNames is { } given && given.Count == k
            ? given.ToList()
            : Enumerable.Range(1, k).Select(i => "x" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        if (k == 0 || !Shaped(ca, k) || !Shaped(cb, k))
        {
            warnings.Add($"{tag}: covariates need the same number k >= 1 of sums, a k x k cross_products matrix and k y_cross values in every variant; statistics are invalid");
            return empty;
        }

        double na = a.N, nb = b.N, n = na + nb;
        double ya = a.Sum, yb = b.Sum;
        double yya = PairEstimator.SquaresOf(a, proportion), yyb = PairEstimator.SquaresOf(b, proportion);
        var xa = Vector<double>.Build.DenseOfEnumerable(ca.Sums);
        var xb = Vector<double>.Build.DenseOfEnumerable(cb.Sums);
        var xxa = Matrix<double>.Build.DenseOfRows(ca.CrossProducts);
        var xxb = Matrix<double>.Build.DenseOfRows(cb.CrossProducts);
        var xya = Vector<double>.Build.DenseOfEnumerable(ca.YCross);
        var xyb = Vector<double>.Build.DenseOfEnumerable(cb.YCross);

        // Pooled centred cross-products (the n - 1 divisors cancel in theta).
        var sx = xa + xb;
        var sxx = xxa + xxb - (sx.OuterProduct(sx) / n);
        var sxy = xya + xyb - (sx * ((ya + yb) / n));
        var rawDiagonal = (xxa + xxb).Diagonal();
        var constant = new List<int>();
        for (var j = 0; j < k; j++)
        {
            var scale = Math.Abs(rawDiagonal[j]);
            if (sxx[j, j] < -InconsistentRelative * scale || double.IsNaN(sxx[j, j]))
            {
                warnings.Add($"{tag}: covariate '{names[j]}': its cross-product is smaller than sum^2/n; statistics are invalid");
                return empty;
            }

            if (sxx[j, j] <= PairEstimator.ZeroVarianceRelative * scale)
            {
                constant.Add(j);
            }
        }

        var theta = Vector<double>.Build.Dense(k);
        var rank = 0;
        var varY = PairEstimator.SampleVariance(a.N + b.N, ya + yb, yya + yyb, out _);
        if (constant.Count > 0)
        {
            warnings.Add($"{tag}: covariate(s) {Quote(constant.Select(j => names[j]))} have zero variance; their coefficient is 0");
        }

        var active = Enumerable.Range(0, k).Where(j => !constant.Contains(j)).ToList();
        if (active.Count == 0)
        {
            warnings.Add($"{tag}: every covariate has zero variance; regression adjustment not applied (theta = 0)");
        }
        else
        {
            // rank is the pooled covariates' rank; theta stays 0 when y is constant (as in single-covariate CUPED).
            (var solved, rank) = Solve(sxx, sxy, active, names, tag, warnings, k);
            if (varY is > 0)
            {
                theta = solved;
            }
        }

        double mya = a.Mean, myb = b.Mean;
        var mxa = xa / na;
        var mxb = xb / nb;
        var pooledX = sx / n;
        var adjustedLift = ((yb / nb) - (ya / na)) - theta.DotProduct(mxb - mxa);
        var result = empty with
        {
            ControlMean = mya,
            VariantMean = myb,
            AbsoluteLift = adjustedLift,
            Theta = k == 1 ? theta[0] : null,
        };
        var controlAdjusted = mya - theta.DotProduct(mxa - pooledX);
        var variantAdjusted = myb - theta.DotProduct(mxb - pooledX);
        RegressionSummary Summary(double? varA, double? varB) =>
            new(new ValueList<string>(names), new ValueList<double>(theta), rank, controlAdjusted, variantAdjusted, varA, varB);

        if (a.N < 2 || b.N < 2)
        {
            warnings.Add($"{tag}: fewer than 2 units in '{(a.N < 2 ? control : variant)}'; variance and test are undefined");
            return PairEstimator.Relative(result with { Regression = Summary(null, null) }, null, tag, warnings);
        }

        var armA = Arm(a.N, ya, yya, xa, xxa, xya, theta, out var badA);
        var armB = Arm(b.N, yb, yyb, xb, xxb, xyb, theta, out var badB);
        if (badA || badB)
        {
            warnings.Add($"{tag}: a sum of squares or cross-product is smaller than sum^2/n in '{(badA ? control : variant)}'; statistics are invalid");
            return result with { AbsoluteLift = null, Theta = null, Regression = null };
        }

        result = PairEstimator.Welch(result, armA.Adjusted, a.N, armB.Adjusted, b.N, tag, warnings);
        result = result with
        {
            VarianceReduction = PairEstimator.VarianceReductionOf(armA.Adjusted, armB.Adjusted, armA.VarianceY, armB.VarianceY, a.N, b.N),
            Regression = Summary(armA.Adjusted / na, armB.Adjusted / nb),
        };

        double? relVar = null;
        if (mya != 0)
        {
            var ya2 = mya * mya;
            var controlTerm = ((armA.VarianceY * myb * myb / ya2) - (2 * (myb / mya) * theta.DotProduct(armA.CovarianceXY))
                + armA.CovarianceXX.QuadraticForm(theta)) / (na * ya2);
            relVar = (armB.Adjusted / (nb * ya2)) + controlTerm;
        }

        return PairEstimator.Relative(result, relVar, tag, warnings);
    }

    private static bool Shaped(CovariateStatistics c, int k) =>
        c.Sums.Count == k && c.YCross.Count == k && c.CrossProducts.Count == k && c.CrossProducts.All(r => r is not null && r.Count == k);

    /// <summary>theta = Sxx^+ Sxy over the non-constant covariates, the pseudo-inverse taken on the correlation scale.</summary>
    private static (Vector<double> Theta, int Rank) Solve(
        Matrix<double> sxx, Vector<double> sxy, List<int> active, List<string> names, string tag, List<string> warnings, int k)
    {
        var m = active.Count;
        var d = Vector<double>.Build.Dense(m, i => Math.Sqrt(sxx[active[i], active[i]]));
        var correlation = Matrix<double>.Build.Dense(m, m, (i, j) => sxx[active[i], active[j]] / (d[i] * d[j]));
        var scaledY = Vector<double>.Build.Dense(m, i => sxy[active[i]] / d[i]);
        var evd = correlation.Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues.Select(v => v.Real).ToArray();
        var largest = values.Max();
        var solution = Vector<double>.Build.Dense(m);
        var rank = 0;
        var nullDirections = new List<Vector<double>>();
        for (var i = 0; i < m; i++)
        {
            var vector = evd.EigenVectors.Column(i);
            if (values[i] > RankTolerance * largest)
            {
                solution += vector * (vector.DotProduct(scaledY) / values[i]);
                rank++;
            }
            else
            {
                nullDirections.Add(vector);
            }
        }

        if (rank < m)
        {
            var involved = Enumerable.Range(0, m).Where(i => nullDirections.Any(v => Math.Abs(v[i]) > 1e-6)).Select(i => names[active[i]]);
            warnings.Add($"{tag}: covariates {Quote(involved)} are collinear (rank {rank} of {m}); theta uses the pseudo-inverse (the adjustment is the projection on their span)");
        }

        var theta = Vector<double>.Build.Dense(k);
        for (var i = 0; i < m; i++)
        {
            theta[active[i]] = solution[i] / d[i];
        }

        return (theta, rank);
    }

    private sealed record ArmMoments(double VarianceY, Matrix<double> CovarianceXX, Vector<double> CovarianceXY, double Adjusted);

    /// <summary>
    /// The arm's n - 1 (co)variances and s2_adj = s2_Y + theta' S_X theta - 2 theta' s_XY (clamped at 0); diagonal
    /// entries use the same zero-variance guard as <see cref="PairEstimator.SampleVariance"/>.
    /// </summary>
    private static ArmMoments Arm(long n, double y, double yy, Vector<double> x, Matrix<double> xx, Vector<double> xy, Vector<double> theta, out bool inconsistent)
    {
        var vy = PairEstimator.SampleVariance(n, y, yy, out inconsistent);
        var cxx = (xx - (x.OuterProduct(x) / n)) / (n - 1);
        for (var j = 0; j < x.Count; j++)
        {
            var vx = PairEstimator.SampleVariance(n, x[j], xx[j, j], out var bad);
            inconsistent |= bad;
            cxx[j, j] = vx ?? 0;
        }

        var cxy = (xy - (x * (y / n))) / (n - 1);
        var varianceY = vy ?? 0;
        var adjusted = Math.Max(0.0, varianceY + cxx.QuadraticForm(theta) - (2 * theta.DotProduct(cxy)));
        return new ArmMoments(varianceY, cxx, cxy, adjusted);
    }

    private static double QuadraticForm(this Matrix<double> matrix, Vector<double> v) => v.DotProduct(matrix * v);

    private static string Quote(IEnumerable<string> names) => string.Join(", ", names.Select(s => $"'{s}'"));
}
