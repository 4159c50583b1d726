using System.Globalization;
using System.Text.RegularExpressions;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Expressions;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Core.Validation;
using MetricCompiler.Sql.Model;
using MetricCompiler.Sql.Parsing;
using YamlDotNet.RepresentationModel;
using static MetricCompiler.Sql.Model.Sql;

namespace MetricCompiler.Core.Metrics.Types;

/// <summary>An input of a derived metric: a metric, the name the expression calls it, and an optional offset.</summary>
public sealed record DerivedInputSpec(NameReference Metric, string Alias, MetricOffset Offset, SourceLocation Location);

/// <summary>The YAML of a derived metric.</summary>
public sealed record DerivedSpec(SqlSnippet? Expr, IReadOnlyList<DerivedInputSpec>? Inputs) : MetricSpec;

/// <summary>
/// <c>type: derived</c>: an expression over other metrics, such as <c>dau / mau</c> or <c>revenue - revenue_last_week</c>.
/// Inputs are listed under <c>metrics</c> (a name, or <c>{name, alias, offset}</c> where <c>offset</c> is
/// <c>7 days</c> or <c>1 period</c>); without the list every name in <c>expr</c> is a metric. Per exposed unit the
/// expression is applied to the inputs' per-unit values (offsets have no meaning there).
/// </summary>
public sealed partial class DerivedMetricType : MetricType
{
    public static DerivedMetricType Instance { get; } = new();

    public override string Name => "derived";

    public override bool HasUnitValues => true;

    public override string Summary => "an expression over other metrics, optionally offset in time";

    [GeneratedRegex(@"^\s*(-?\d+)\s*(day|days|period|periods)\s*$")]
    private static partial Regex OffsetPattern();

    internal override MetricSpec Read(YamlMappingReader reader)
    {
        var expr = reader.Snippet("expr", required: true);
        var node = reader.Node("metrics");
        if (node is null)
            return new DerivedSpec(expr, null);
        if (node is not YamlSequenceNode sequence)
        {
            reader.Report(DiagnosticCodes.WrongNodeType, reader.Location(node), "`metrics` must be a list of metric names or {name, alias, offset} mappings");
            return new DerivedSpec(expr, null);
        }

        var inputs = new List<DerivedInputSpec>();
        foreach (var item in sequence.Children)
        {
            if (item is YamlScalarNode { Value: { Length: > 0 } name })
            {
                inputs.Add(new DerivedInputSpec(new NameReference(name, reader.Location(item)), name, MetricOffset.None, reader.Location(item)));
                continue;
            }

            if (item is not YamlMappingNode mapping)
            {
                reader.Report(DiagnosticCodes.WrongNodeType, reader.Location(item), "each entry of `metrics` must be a metric name or a {name, alias, offset} mapping");
                continue;
            }

            var entry = reader.Nested(mapping, "metrics entry", YamlKeys.DerivedInput);
            var metric = entry.Reference("name", required: true);
            var alias = entry.String("alias");
            var offsetText = entry.String("offset");
            var offset = MetricOffset.None;
            if (offsetText is not null)
            {
                var match = OffsetPattern().Match(offsetText);
                if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var amount) || amount is < 1 or > 3660)
                    reader.Report(DiagnosticCodes.InvalidValue, entry.At("offset"), $"`offset: {offsetText}` is not an offset",
                        "write a number of days or grain periods between 1 and 3660, for example `offset: 7 days` or `offset: 1 period`");
                else
                    offset = match.Groups[2].Value.StartsWith("day", StringComparison.Ordinal) ? new MetricOffset(amount, 0) : new MetricOffset(0, amount);
            }

            entry.Finish();
            if (metric is not null)
                inputs.Add(new DerivedInputSpec(metric, alias ?? metric.Name, offset, entry.Location()));
        }

        return new DerivedSpec(expr, inputs);
    }

    public override BoundMetric? Bind(MetricDefinition definition, MetricBinder binder)
    {
        var spec = (DerivedSpec)definition.Spec;
        var context = $"metric `{definition.Name}`";
        if (spec.Expr is null)
            return null;
        ParsedExpression parsed;
        try
        {
            parsed = ExpressionParser.Parse(spec.Expr.Text);
        }
        catch (ExpressionSyntaxException e)
        {
            binder.Diagnostics.Error(DiagnosticCodes.ExpressionSyntax, UserExpressions.Position(spec.Expr, e.Offset), $"{context}: {e.Message}", e.Hint);
            return null;
        }

        var declared = spec.Inputs ?? parsed.Columns
            .Select(c => c.Name).Distinct(StringComparer.Ordinal)
            .Select(name => new DerivedInputSpec(new NameReference(name, UserExpressions.Position(spec.Expr, parsed.Columns.First(c => c.Name == name).Offset)), name, MetricOffset.None, spec.Expr.Location))
            .ToList();
        var inputs = new List<DerivedInput>();
        var ok = true;
        foreach (var input in declared)
        {
            if (inputs.Any(i => i.Alias == input.Alias))
            {
                binder.Diagnostics.Error(DiagnosticCodes.DuplicateName, input.Location, $"{context}: two inputs are called `{input.Alias}`", "give one of them an `alias`");
                ok = false;
                continue;
            }

            var metric = binder.Metric(input.Metric, context);
            if (metric is null)
                ok = false;
            else
                inputs.Add(new DerivedInput(metric, input.Alias, input.Offset));
        }

        foreach (var column in parsed.Columns.Where(c => declared.All(d => d.Alias != c.Name)))
        {
            binder.Diagnostics.Error(DiagnosticCodes.UnknownMetric, UserExpressions.Position(spec.Expr, column.Offset),
                $"{context}: `{column.Name}` in `expr` is not one of its `metrics`", NameSuggester.Hint(column.Name, declared.Select(d => d.Alias).ToList(), "input"));
            ok = false;
        }

        return ok ? new DerivedMetric(definition, parsed.Expression, inputs, spec.Expr) : null;
    }
}

/// <summary>A bound input of a derived metric.</summary>
public sealed record DerivedInput(BoundMetric Metric, string Alias, MetricOffset Offset);

/// <summary>A bound derived metric: its expression (columns are input aliases) and its inputs.</summary>
public sealed record DerivedMetric(MetricDefinition Definition, SqlExpr Expression, IReadOnlyList<DerivedInput> DerivedInputs, SqlSnippet ExprText) : BoundMetric(Definition)
{
    public override MetricType Type => DerivedMetricType.Instance;

    public override IReadOnlyList<BoundMetric> Inputs => DerivedInputs.Select(i => i.Metric).Distinct<BoundMetric>(ReferenceEqualityComparer.Instance).ToList(); // one instance per metric name

    public override IReadOnlyList<BoundSource> Sources => Inputs.SelectMany(i => i.Sources).Distinct<BoundSource>(ReferenceEqualityComparer.Instance).ToList();

    public override string Summary => $"derived: {ExprText.Text}";

    /// <summary>A value per unit exists when no input is offset and every input has a single per-unit value.</summary>
    public override bool HasUnitValue => DerivedInputs.All(i => i.Offset.IsNone && i.Metric is SimpleMetric { HasUnitValue: true } or DerivedMetric { HasUnitValue: true });

    /// <summary>Zero for a unit without rows when every input is, and nothing divides (a division by zero is no value).</summary>
    private bool ZeroWhenEmpty =>
        DerivedInputs.All(i => i.Metric is SimpleMetric { ZeroWhenEmpty: true } or DerivedMetric { ZeroWhenEmpty: true })
        && !Contains(Expression, e => e is BinaryExpr { Operator: BinaryOperator.Divide });

    public override ExperimentStatistics? Experiment(UnitValueBuilder units) =>
        HasUnitValue ? units.MeanOf(this, frame => UnitValue(units, frame), ZeroWhenEmpty, binary: false) : null;

    private SqlExpr UnitValue(UnitValueBuilder units, UnitTimeFrame frame) => Substitute(input => input.Metric switch
    {
        SimpleMetric simple => simple.UnitValue(units, frame),
        DerivedMetric derived => derived.UnitValue(units, frame),
        _ => throw new InvalidOperationException($"input `{input.Alias}` has no per-unit value"),
    });

    public override GrainValue AtGrain(GrainQueryBuilder query) =>
        new(Substitute(input => (input.Offset.IsNone ? query.Value(input.Metric) : query.Offset(input.Metric, input.Offset)).Expression), false);

    private SqlExpr Substitute(Func<DerivedInput, SqlExpr> value)
    {
        var values = DerivedInputs.ToDictionary(i => i.Alias, value, StringComparer.OrdinalIgnoreCase);
        return SqlExprRewriter.Rewrite(Expression, node => node is ColumnExpr { Qualifier: null } c && values.TryGetValue(c.Name, out var v) ? v : node);
    }

    private static bool Contains(SqlExpr expression, Func<SqlExpr, bool> predicate)
    {
        var found = false;
        SqlExprRewriter.Rewrite(expression, node =>
        {
            found |= predicate(node);
            return node;
        });
        return found;
    }
}
