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

    /// <summary>Every statistic column, in table order (after the keys).</summary>
    public static IReadOnlyList<string> Values { get; } =
        [N, ValueSum, ValueSumSquares, DenominatorSum, DenominatorSumSquares, CovariateSum, CovariateSumSquares, CrossSum, ValueShift, DenominatorShift, CovariateShift, ValueCap, DenominatorCap, CovariateCap];

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
}

/// <summary>
/// The mean of one per-unit value (a 0/1 value for proportions), optionally with its pre-exposure value as CUPED
/// covariate. Units whose value is null (an average without events) are left out of n.
/// </summary>
public sealed record MeanStatistics(string Value, string? Covariate, MetricKind Kind) : ExperimentStatistics(Kind)
{
    public override IReadOnlyList<string> UnitColumns => Covariate is null ? [Value] : [Value, Covariate];

    /// <summary>A proportion's 0/1 values are summed exactly (and its sum of squares is its sum), so only a covariate is centred.</summary>
    public override IReadOnlyList<string> CentredColumns => Kind == MetricKind.Proportion ? Covariate is null ? [] : [Covariate] : UnitColumns;

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
            CovariateShift: Cuped ? StatisticsColumns.Number(row, StatisticsColumns.CovariateShift) ?? 0 : 0);
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
