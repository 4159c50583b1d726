using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Model;

namespace MetricCompiler.Core.Metrics;

/// <summary>A metric type's own settings as written in YAML (references and expressions with their locations).</summary>
public abstract record MetricSpec;

/// <summary>
/// One kind of metric. A type owns its YAML keys (<see cref="Read"/>), its validation and resolution
/// (<see cref="Bind"/>, giving a <see cref="BoundMetric"/>), and, through that bound metric, its lowering to per-unit
/// values in an experiment and to values at a time grain in a query. Types are registered in <see cref="MetricTypes"/>;
/// a new type is one file in <c>Core/Metrics/Types</c> plus its tests.
/// </summary>
public abstract class MetricType
{
    /// <summary>The value of the metric's <c>type:</c> key.</summary>
    public abstract string Name { get; }

    /// <summary>One line for <c>metricc list</c> and the docs.</summary>
    public abstract string Summary { get; }

    /// <summary>Whether metrics of this type can have a value per exposed unit (so experiments may analyse them).</summary>
    public abstract bool HasUnitValues { get; }

    /// <summary>Reads the type's own keys; the reader reports any key nothing read.</summary>
    internal abstract MetricSpec Read(YamlMappingReader reader);

    /// <summary>Resolves and checks the definition; null when it is invalid (the diagnostics say why).</summary>
    public abstract BoundMetric? Bind(MetricDefinition definition, MetricBinder binder);
}
