namespace MetricCompiler.Core.Model;

/// <summary>The declared type of a source column; staging casts every column to it.</summary>
public enum ColumnType
{
    String,
    Integer,
    Number,
    Boolean,
    Timestamp,
}

/// <summary>How a metric turns a unit's events into one value per unit.</summary>
public enum MetricAggregation
{
    /// <summary>Number of qualifying events; 0 for a unit without any.</summary>
    Count,
    /// <summary>Sum of <c>expr</c> over qualifying events; 0 for a unit without any.</summary>
    Sum,
    /// <summary>Number of distinct values of <c>expr</c>; 0 for a unit without any.</summary>
    CountDistinct,
    /// <summary>Mean of <c>expr</c> over the unit's qualifying events; a unit without any is left out of this metric.</summary>
    Average,
    /// <summary>1 when the unit has at least one qualifying event, else 0.</summary>
    Proportion,
    /// <summary>Sum of the numerator metric over the sum of the denominator metric (delta method).</summary>
    Ratio,
}

public enum Direction
{
    Increase,
    Decrease,
}

public enum MultipleTestingCorrection
{
    None,
    Holm,
    BenjaminiHochberg,
}

public enum AnalysisMethod
{
    Frequentist,
    Sequential,
    Bayesian,
}

public enum MetricRole
{
    Primary,
    Secondary,
    Guardrail,
}
