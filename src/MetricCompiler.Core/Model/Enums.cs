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
