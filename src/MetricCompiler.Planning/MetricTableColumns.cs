namespace MetricCompiler.Planning;

/// <summary>The conventional columns of a materialized metric (<c>fct_&lt;metric&gt;</c>), after its dimensions.</summary>
public static class MetricTableColumns
{
    /// <summary>The first day of the bucket, in the project's time zone.</summary>
    public const string Date = "metric_date";

    public const string Value = "metric_value";
}
