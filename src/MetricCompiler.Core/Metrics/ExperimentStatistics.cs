using System.Globalization;
using MetricCompiler.Sql.Model;
using MetricCompiler.Statistics;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Core.Metrics;

/// <summary>
/// The columns of an experiment's statistics tables, declared once: the planner writes them, the readout and the
/// simulation read them.
/// </summary>
public static class StatisticsColumns
{
    public const string Metric = "metric";
    public const string Variant = "variant";
    public const string Dimension = "dimension";
    public const string Segment = "segment";
    public const string N = "n";
    public const string ValueSum = "value_sum";
    public const string ValueSumSquares = "value_sum_squares";
    public const string DenominatorSum = "denominator_sum";
    public const string DenominatorSumSquares = "denominator_sum_squares";
    public const string CovariateSum = "covariate_sum";
    public const string CovariateSumSquares = "covariate_sum_squares";
    public const string CrossSum = "cross_sum";
    public const string ValueShift = "value_shift";
    public const string DenominatorShift = "denominator_shift";
    public const string CovariateShift = "covariate_shift";
    /// <summary>The cap the value (a ratio's numerator) was capped at before its sums; null when uncapped.</summary>
    public const string ValueCap = "value_cap";
    public const string DenominatorCap = "denominator_cap";
    public const string CovariateCap = "covariate_cap";
    /// <summary>A quantile metric's level p (section 1.1 of docs/statistics.md); null for every other metric.</summary>
    public const string QuantileLevel = "quantile_level";
    /// <summary>The variant's sample quantile at p (numpy's linear interpolation, as <c>percentile_cont</c>).</summary>
    public const string Quantile = "quantile";
    /// <summary>The sample quantile at max(1e-8, p - z(0.975) sqrt(p(1 - p)/n)).</summary>
    public const string QuantileLower = "quantile_lower";
    /// <summary>The sample quantile at min(1 - 1e-8, p + z(0.975) sqrt(p(1 - p)/n)).</summary>
    public const string QuantileUpper = "quantile_upper";

    /// <summary>Every statistic column, in table order (after the keys).</summary>
    public static IReadOnlyList<string> Values { get; } =
        [N, ValueSum, ValueSumSquares, DenominatorSum, DenominatorSumSquares, CovariateSum, CovariateSumSquares, CrossSum, ValueShift, DenominatorShift, CovariateShift, ValueCap, DenominatorCap, CovariateCap,
         QuantileLevel, Quantile, QuantileLower, QuantileUpper];

    /// <summary>
    /// The regression-adjustment columns of an experiment with k covariates (docs/statistics.md 1.2), in order:
    /// <c>x{i}_sum</c> = sum of (x_i - c_i), <c>x{i}_x{j}</c> (i &lt;= j) = sum of (x_i - c_i)(x_j - c_j),
    /// <c>x{i}_y</c> = sum of (x_i - c_i)(y - c); all null for a metric without covariates. Centred like every sum.
    /// </summary>
    public static IReadOnlyList<string> MatrixColumns(int k) =>
    [
        .. Enumerable.Range(1, k).Select(i => $"x{i}_sum"),
        .. Enumerable.Range(1, k).SelectMany(i => Enumerable.Range(i, k - i + 1).Select(j => $"x{i}_x{j}")),
        .. Enumerable.Range(1, k).Select(i => $"x{i}_y"),
    ];

    /// <summary>The common table expression holding, in one row, every capped unit column's cap.</summary>
    public const string Caps = "caps";

    /// <summary>
    /// The column of <see cref="Caps"/> holding <paramref name="unitColumn"/>'s cap under <paramref name="cap"/>: named
    /// after both, so two metrics capping the same column differently do not collide.
    /// </summary>
    public static string CapColumn(string unitColumn, Model.MetricCap cap) =>
        $"{unitColumn}__cap_{(cap.Percentile is not null ? "" : "v")}{cap.Describe().Replace('.', '_').Replace('-', 'm')}";

    /// <summary>The common table expression holding each unit column's centre (its mean over every analysed unit).</summary>
    public const string Centres = "centres";

    /// <summary>The column of <see cref="Centres"/> holding a unit column's centre.</summary>
    public static string Centre(string unitColumn) => unitColumn + "__centre";

    public static double? Number(IReadOnlyDictionary<string, object?>? row, string column) =>
        row is not null && row.TryGetValue(column, out var value) && value is not null ? Convert.ToDouble(value, CultureInfo.InvariantCulture) : null;

    public static long Count(IReadOnlyDictionary<string, object?>? row) =>
        row is not null && row.TryGetValue(N, out var value) && value is not null ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0;
}

/// <summary>
/// How a metric's sufficient statistics look in an experiment: which per-unit columns feed them, the SQL aggregates
/// over the unit-metrics table (in <see cref="StatisticsColumns"/> order), how a row becomes the statistics engine's
/// input, and which kind of engine request it makes. A handful of shapes serve every metric type.
/// <para>
/// Sums are centred: each unit column is shifted by its mean over every analysed unit (computed in the same query, the
/// same for every variant) before it is summed and squared, and the shift is a column of its own. Raw sums of squares
/// lose the variance to cancellation when the mean is large against the spread (revenue in cents, timestamps as
/// numbers); centred ones keep it. Variances and covariances do not depend on the shift, means add it back.
/// </para>
/// </summary>
public abstract record ExperimentStatistics(MetricKind EngineKind)
{
    /// <summary>The per-unit columns these statistics aggregate.</summary>
    public abstract IReadOnlyList<string> UnitColumns { get; }

    /// <summary>The unit columns whose sums are centred (all but 0/1 values, whose sums are exact).</summary>
    public virtual IReadOnlyList<string> CentredColumns => UnitColumns;

    /// <summary>
    /// <c>cap:</c> of the metric: every unit column (each part of a ratio, the CUPED covariate) is capped at its own
    /// cap, computed the same way on its own values, before it is centred and summed.
    /// </summary>
    public Model.MetricCap? Cap { get; init; }

    /// <summary>The unit columns capped, each with the <see cref="StatisticsColumns.Caps"/> column holding its cap.</summary>
    public IReadOnlyList<(string Column, string CapColumn, Model.MetricCap Cap)> CappedColumns =>
        Cap is { } cap ? [.. UnitColumns.Select(c => (c, StatisticsColumns.CapColumn(c, cap), cap))] : [];

    /// <summary>A unit column as summed: capped (<c>least(value, cap)</c>, written as a case so every engine keeps nulls) when the metric has a cap.</summary>
    protected SqlExpr Capped(string column)
    {
        if (Cap is not { } cap)
            return Col(column);
        var limit = Col(StatisticsColumns.Caps, StatisticsColumns.CapColumn(column, cap));
        return When(Gt(Col(column), limit), limit, Col(column));
    }

    /// <summary>The cap a unit column was capped at, as the statistics row reports it (null when uncapped).</summary>
    protected SqlExpr CapOf(string? column) =>
        Cap is { } cap && column is not null ? Max(Col(StatisticsColumns.Caps, StatisticsColumns.CapColumn(column, cap))) : NoValue();

    /// <summary>A unit column (capped) minus its centre (from the <see cref="StatisticsColumns.Centres"/> expression).</summary>
    protected SqlExpr Centred(string column) =>
        new BinaryExpr(Capped(column), BinaryOperator.Subtract, Col(StatisticsColumns.Centres, StatisticsColumns.Centre(column)));

    /// <summary>The centre a unit column was shifted by, as the statistics row reports it.</summary>
    protected static SqlExpr ShiftOf(string column) => Max(Col(StatisticsColumns.Centres, StatisticsColumns.Centre(column)));

    /// <summary>Whether the statistics include a pre-exposure covariate (CUPED).</summary>
    public abstract bool Cuped { get; }

    /// <summary>The aggregates over the unit-metrics table, one per <see cref="StatisticsColumns.Values"/> entry.</summary>
    public abstract IReadOnlyList<SelectItem> Aggregates();

    /// <summary>A statistics row (null when the variant has no row) as the engine's input for one variant.</summary>
    public abstract VariantStatistics Read(IReadOnlyDictionary<string, object?>? row);

    protected static SqlExpr NoValue() => new NullLiteral(SqlType.Double);

    /// <summary>The covariate columns' names for the engine (null: no several-covariate adjustment).</summary>
    public virtual IReadOnlyList<string>? CovariateNames => null;

    /// <summary>The <paramref name="k"/> covariates' matrix columns (<see cref="StatisticsColumns.MatrixColumns"/>); null unless overridden.</summary>
    public virtual IReadOnlyList<SelectItem> CovariateMatrix(int k) => [.. StatisticsColumns.MatrixColumns(k).Select(c => NoValue().As(c))];

    /// <summary>The quantile columns of a metric that is not a quantile (all null).</summary>
    protected static IEnumerable<SelectItem> NoQuantile() =>
    [
        NoValue().As(StatisticsColumns.QuantileLevel),
        NoValue().As(StatisticsColumns.Quantile),
        NoValue().As(StatisticsColumns.QuantileLower),
        NoValue().As(StatisticsColumns.QuantileUpper),
    ];
}

/// <summary>
/// The mean of one per-unit value (a 0/1 value for proportions), optionally with its pre-exposure value as CUPED
/// covariate. Units whose value is null (an average without events) are left out of n.
/// </summary>
public sealed record MeanStatistics(string Value, string? Covariate, MetricKind Kind) : ExperimentStatistics(Kind)
{
    /// <summary>The unit columns of the experiment's covariates (<c>analysis.covariates</c>): regression adjustment with all of them.</summary>
    public IReadOnlyList<string> Covariates { get; init; } = [];

    public override IReadOnlyList<string> UnitColumns => [Value, .. Covariate is null ? Array.Empty<string>() : [Covariate], .. Covariates];

    /// <summary>A proportion's 0/1 values are summed exactly (and its sum of squares is its sum), so only covariates are centred.</summary>
    public override IReadOnlyList<string> CentredColumns => Kind == MetricKind.Proportion ? [.. UnitColumns.Skip(1)] : UnitColumns;

    public override IReadOnlyList<string>? CovariateNames => Covariates.Count == 0 ? null : Covariates;

    public override IReadOnlyList<SelectItem> CovariateMatrix(int k)
    {
        if (Covariates.Count == 0)
            return base.CovariateMatrix(k);
        var value = Kind != MetricKind.Proportion ? Centred(Value) : Capped(Value);
        var x = Covariates.Select(Centred).ToList();
        var names = StatisticsColumns.MatrixColumns(k);
        var items = new List<SqlExpr>();
        items.AddRange(x.Select(Sum));
        for (var i = 0; i < k; i++)
        {
            for (var j = i; j < k; j++)
                items.Add(Sum(Mul(x[i], x[j])));
        }

        items.AddRange(x.Select(xi => (SqlExpr)Sum(Mul(xi, value))));
        return [.. items.Select((e, i) => e.As(names[i]))];
    }

    public override bool Cuped => Covariate is not null;

    public override IReadOnlyList<SelectItem> Aggregates()
    {
        var centred = Kind != MetricKind.Proportion;
        var value = centred ? Centred(Value) : Capped(Value);
        SqlExpr? covariate = Covariate is null ? null : Centred(Covariate);
        return
        [
            Count(Col(Value)).As(StatisticsColumns.N),
            Sum(value).As(StatisticsColumns.ValueSum),
            Sum(Mul(value, value)).As(StatisticsColumns.ValueSumSquares),
            NoValue().As(StatisticsColumns.DenominatorSum),
            NoValue().As(StatisticsColumns.DenominatorSumSquares),
            (covariate is null ? NoValue() : Sum(covariate)).As(StatisticsColumns.CovariateSum),
            (covariate is null ? NoValue() : Sum(Mul(covariate, covariate))).As(StatisticsColumns.CovariateSumSquares),
            (covariate is null ? NoValue() : Sum(Mul(value, covariate))).As(StatisticsColumns.CrossSum),
            (centred ? ShiftOf(Value) : Cast(Num(0), SqlType.Double)).As(StatisticsColumns.ValueShift),
            NoValue().As(StatisticsColumns.DenominatorShift),
            (Covariate is null ? NoValue() : ShiftOf(Covariate)).As(StatisticsColumns.CovariateShift),
            CapOf(Value).As(StatisticsColumns.ValueCap),
            NoValue().As(StatisticsColumns.DenominatorCap),
            CapOf(Covariate).As(StatisticsColumns.CovariateCap),
            .. NoQuantile(),
        ];
    }

    /// <summary>The shifts are passed on: means add them back (CUPED itself uses only differences and co-moments).</summary>
    public override VariantStatistics Read(IReadOnlyDictionary<string, object?>? row) =>
        new(StatisticsColumns.Count(row),
            StatisticsColumns.Number(row, StatisticsColumns.ValueSum) ?? 0,
            StatisticsColumns.Number(row, StatisticsColumns.ValueSumSquares) ?? 0,
            CovariateSum: Cuped ? StatisticsColumns.Number(row, StatisticsColumns.CovariateSum) ?? 0 : null,
            CovariateSumSquares: Cuped ? StatisticsColumns.Number(row, StatisticsColumns.CovariateSumSquares) ?? 0 : null,
            CrossSum: Cuped ? StatisticsColumns.Number(row, StatisticsColumns.CrossSum) ?? 0 : null,
            Shift: StatisticsColumns.Number(row, StatisticsColumns.ValueShift) ?? 0,
            CovariateShift: Cuped ? StatisticsColumns.Number(row, StatisticsColumns.CovariateShift) ?? 0 : 0,
            Covariates: Matrix(row));

    /// <summary>
    /// The covariates' sums, cross-products and y-cross sums from a row (zeros for a variant without a row; null when
    /// the row has no such columns, as the simulation's, which then analyses without them).
    /// </summary>
    private CovariateStatistics? Matrix(IReadOnlyDictionary<string, object?>? row)
    {
        var k = Covariates.Count;
        if (k == 0 || row is not null && !row.ContainsKey("x1_sum"))
            return null;
        double Get(string column) => StatisticsColumns.Number(row, column) ?? 0;
        var cross = new double[k][];
        for (var i = 0; i < k; i++)
        {
            cross[i] = new double[k];
            for (var j = 0; j < k; j++)
                cross[i][j] = Get($"x{Math.Min(i, j) + 1}_x{Math.Max(i, j) + 1}");
        }

        return new CovariateStatistics([.. Enumerable.Range(1, k).Select(i => Get($"x{i}_sum"))], cross, [.. Enumerable.Range(1, k).Select(i => Get($"x{i}_y"))]);
    }
}

/// <summary>The ratio of two per-unit sums over all analysed units (delta method), e.g. revenue per order.</summary>
public sealed record RatioStatistics(string Numerator, string Denominator) : ExperimentStatistics(MetricKind.Ratio)
{
    public override IReadOnlyList<string> UnitColumns => [Numerator, Denominator];

    public override bool Cuped => false;

    public override IReadOnlyList<SelectItem> Aggregates()
    {
        var numerator = Centred(Numerator);
        var denominator = Centred(Denominator);
        return
        [
            CountStar().As(StatisticsColumns.N),
            Sum(numerator).As(StatisticsColumns.ValueSum),
            Sum(Mul(numerator, numerator)).As(StatisticsColumns.ValueSumSquares),
            Sum(denominator).As(StatisticsColumns.DenominatorSum),
            Sum(Mul(denominator, denominator)).As(StatisticsColumns.DenominatorSumSquares),
            NoValue().As(StatisticsColumns.CovariateSum),
            NoValue().As(StatisticsColumns.CovariateSumSquares),
            Sum(Mul(numerator, denominator)).As(StatisticsColumns.CrossSum),
            ShiftOf(Numerator).As(StatisticsColumns.ValueShift),
            ShiftOf(Denominator).As(StatisticsColumns.DenominatorShift),
            NoValue().As(StatisticsColumns.CovariateShift),
            CapOf(Numerator).As(StatisticsColumns.ValueCap),
            CapOf(Denominator).As(StatisticsColumns.DenominatorCap),
            NoValue().As(StatisticsColumns.CovariateCap),
            .. NoQuantile(),
        ];
    }

    public override VariantStatistics Read(IReadOnlyDictionary<string, object?>? row) =>
        new(StatisticsColumns.Count(row),
            NumeratorSum: StatisticsColumns.Number(row, StatisticsColumns.ValueSum) ?? 0,
            NumeratorSumSquares: StatisticsColumns.Number(row, StatisticsColumns.ValueSumSquares) ?? 0,
            DenominatorSum: StatisticsColumns.Number(row, StatisticsColumns.DenominatorSum) ?? 0,
            DenominatorSumSquares: StatisticsColumns.Number(row, StatisticsColumns.DenominatorSumSquares) ?? 0,
            CrossSum: StatisticsColumns.Number(row, StatisticsColumns.CrossSum) ?? 0,
            Shift: StatisticsColumns.Number(row, StatisticsColumns.ValueShift) ?? 0,
            DenominatorShift: StatisticsColumns.Number(row, StatisticsColumns.DenominatorShift) ?? 0);
}

/// <summary>
/// The <see cref="Level"/>-quantile of a per-unit value (units without a value left out), compared between variants
/// with the quantile test (docs/statistics.md 1.1 and 2.4.1): per variant n, the sample quantile and the sample
/// quantiles at the bound levels p -/+ z(0.975) sqrt(p(1 - p)/n), all with numpy's default linear interpolation.
/// <para>
/// Computed portably by ranks (no engine needs <c>percentile_cont</c> with a level that depends on n, which DuckDB,
/// Snowflake and Trino do not accept): <see cref="Expressions"/> ranks each partition's values 0..n-1 and gives every
/// row the three positions h = level (n - 1); the part then takes, per position, the largest value ranked at or below
/// h (x[floor h]), its rank, and the smallest value ranked above (x[floor h + 1]), and interpolates, as the percentile
/// caps do. Tied values ranked in any order give the same quantiles.
/// </para>
/// </summary>
public sealed record QuantileStatistics(string Value, double Level) : ExperimentStatistics(MetricKind.Quantile)
{
    /// <summary>z(0.975), fixed whatever the analysis alpha (gbstats fixes it too).</summary>
    public const double BoundZ = 1.959963984540054;

    /// <summary>The bound levels are kept inside (0, 1) by this much.</summary>
    public const double LevelGuard = 1e-8;

    public override IReadOnlyList<string> UnitColumns => [Value];

    public override IReadOnlyList<string> CentredColumns => [];

    public override bool Cuped => false;

    /// <summary>The common table expression the statistics part reads: the ranked values with their positions (<paramref name="suffix"/> tells the expressions of several segment dimensions apart).</summary>
    public string PositionsName(string suffix) => $"{Value}__quantile_positions{suffix}";

    private string RanksName(string suffix) => $"{Value}__quantile_ranks{suffix}";

    private const string RankedValue = "quantile_value";
    private const string Rank = "quantile_rank";
    private const string Count = "quantile_n";
    private static readonly string[] Positions = ["quantile_h", "quantile_lower_h", "quantile_upper_h"];

    /// <summary>
    /// The ranked values of <paramref name="unitMetrics"/>, partitioned by <paramref name="partition"/> (the variant, and
    /// the segment for segment statistics), then each row with the positions h of the quantile and of its two bounds.
    /// </summary>
    public IReadOnlyList<CommonTableExpression> Expressions(FromItem unitMetrics, IReadOnlyList<SqlExpr> partition, string suffix)
    {
        var ranked = new SelectQuery(
            [
                .. partition.Select(p => p.Item()),
                Cast(Col(Value), SqlType.Double).As(RankedValue),
                new BinaryExpr(new RowNumberExpr(partition, [new MetricCompiler.Sql.Model.SortKey(Col(Value))]), BinaryOperator.Subtract, Num(1)).As(Rank),
                new WindowExpr(Sql.Model.Sql.Count(Col(Value)), partition, []).As(Count),
            ],
            unitMetrics,
            Where: new IsNullExpr(Col(Value), Negated: true));
        var positioned = new SelectQuery(
            [
                new StarExpr().Item(),
                Position(0).As(Positions[0], "h = p (n - 1)"),
                Position(1).As(Positions[1], "at the lower bound level max(1e-8, p - z(0.975) sqrt(p (1 - p) / n))"),
                Position(2).As(Positions[2], "at the upper bound level min(1 - 1e-8, p + z(0.975) sqrt(p (1 - p) / n))"),
            ],
            From(new CteRef(RanksName(suffix))));
        var level = Level.ToString(CultureInfo.InvariantCulture);
        return
        [
            new CommonTableExpression(RanksName(suffix), ranked,
                $"`{Value}` ranked 0..n-1 per variant (units without a value left out), for its {level} quantile"),
            new CommonTableExpression(PositionsName(suffix), positioned,
                $"the positions h = level (n - 1) of the {level} quantile and of its bounds"),
        ];
    }

    /// <summary>The position h = level (n - 1) of a level: the quantile's own, or a bound's (clamped into (0, 1)).</summary>
    private SqlExpr Position(int which)
    {
        var n = Cast(Col(Count), SqlType.Double);
        SqlExpr level = Cast(Num(Level), SqlType.Double);
        if (which > 0)
        {
            var spread = Mul(Cast(Num(BoundZ), SqlType.Double),
                Fn("sqrt", new BinaryExpr(Num(Level * (1 - Level)), BinaryOperator.Divide, n)));
            if (which == 1)
            {
                var lower = new BinaryExpr(level, BinaryOperator.Subtract, spread);
                level = When(Lt(lower, Num(LevelGuard)), Cast(Num(LevelGuard), SqlType.Double), lower);
            }
            else
            {
                var upper = new BinaryExpr(level, BinaryOperator.Add, spread);
                level = When(Gt(upper, Num(1 - LevelGuard)), Cast(Num(1 - LevelGuard), SqlType.Double), upper);
            }
        }

        return Mul(level, new BinaryExpr(n, BinaryOperator.Subtract, Num(1)));
    }

    /// <summary>numpy's linear quantile at a position: x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).</summary>
    private static SqlExpr Interpolated(int which)
    {
        var h = Col(Positions[which]);
        var below = new BinaryExpr(Col(Rank), BinaryOperator.LessOrEqual, h);
        var low = Max(When(below, Col(RankedValue)));
        var lowRank = Max(When(below, Col(Rank)));
        var high = Min(When(Gt(Col(Rank), h), Col(RankedValue)));
        var fraction = new BinaryExpr(Max(h), BinaryOperator.Subtract, lowRank);
        return new BinaryExpr(low, BinaryOperator.Add, Mul(fraction, new BinaryExpr(Coalesce(high, low), BinaryOperator.Subtract, low)));
    }

    public override IReadOnlyList<SelectItem> Aggregates() =>
    [
        CountStar().As(StatisticsColumns.N),
        NoValue().As(StatisticsColumns.ValueSum),
        NoValue().As(StatisticsColumns.ValueSumSquares),
        NoValue().As(StatisticsColumns.DenominatorSum),
        NoValue().As(StatisticsColumns.DenominatorSumSquares),
        NoValue().As(StatisticsColumns.CovariateSum),
        NoValue().As(StatisticsColumns.CovariateSumSquares),
        NoValue().As(StatisticsColumns.CrossSum),
        NoValue().As(StatisticsColumns.ValueShift),
        NoValue().As(StatisticsColumns.DenominatorShift),
        NoValue().As(StatisticsColumns.CovariateShift),
        NoValue().As(StatisticsColumns.ValueCap),
        NoValue().As(StatisticsColumns.DenominatorCap),
        NoValue().As(StatisticsColumns.CovariateCap),
        Cast(Num(Level), SqlType.Double).As(StatisticsColumns.QuantileLevel),
        Interpolated(0).As(StatisticsColumns.Quantile, "numpy's linear quantile: x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h])"),
        Interpolated(1).As(StatisticsColumns.QuantileLower),
        Interpolated(2).As(StatisticsColumns.QuantileUpper),
    ];

    /// <summary>
    /// The statistics SQL's three figures computed in memory from a variant's values sorted ascending (the simulation
    /// re-splits units with it): numpy's linear quantile at p and at the two bound levels, the same arithmetic as SQL.
    /// </summary>
    public (double Quantile, double Lower, double Upper) FromSorted(ReadOnlySpan<double> sorted)
    {
        var n = (double)sorted.Length;
        var spread = BoundZ * Math.Sqrt(Level * (1 - Level) / n);
        var lower = Level - spread < LevelGuard ? LevelGuard : Level - spread;
        var upper = Level + spread > 1 - LevelGuard ? 1 - LevelGuard : Level + spread;
        return (At(sorted, Level * (n - 1)), At(sorted, lower * (n - 1)), At(sorted, upper * (n - 1)));
    }

    private static double At(ReadOnlySpan<double> sorted, double h)
    {
        var low = (int)Math.Floor(h);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (h - low) * (sorted[high] - sorted[low]);
    }

    /// <summary>A variant without a row has no values: n = 0 (the engine warns "no units").</summary>
    public override VariantStatistics Read(IReadOnlyDictionary<string, object?>? row) =>
        new(StatisticsColumns.Count(row),
            QuantileLevel: Level,
            Quantile: StatisticsColumns.Number(row, StatisticsColumns.Quantile) ?? 0,
            QuantileLower: StatisticsColumns.Number(row, StatisticsColumns.QuantileLower) ?? 0,
            QuantileUpper: StatisticsColumns.Number(row, StatisticsColumns.QuantileUpper) ?? 0);
}
