namespace MetricCompiler.Sql.Dialects.Keywords;

/// <summary>Trino reserved keywords (trino.io/docs/current/language/reserved.html): these must be double-quoted to be used as names.</summary>
internal static class TrinoKeywords
{
    public static IReadOnlySet<string> Words { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "alter", "and", "as", "between", "by", "case", "cast", "constraint", "create", "cross", "cube",
        "current_catalog", "current_date", "current_path", "current_role", "current_schema", "current_time",
        "current_timestamp", "current_user", "deallocate", "delete", "describe", "distinct", "drop", "else", "end",
        "escape", "except", "execute", "exists", "extract", "false", "for", "from", "full", "group", "grouping",
        "having", "in", "inner", "insert", "intersect", "into", "is", "join", "json_array", "json_exists",
        "json_object", "json_query", "json_table", "json_value", "left", "like", "listagg", "localtime",
        "localtimestamp", "natural", "normalize", "not", "null", "on", "or", "order", "outer", "prepare", "recursive",
        "right", "rollup", "select", "skip", "table", "then", "trim", "true", "uescape", "union", "unnest", "using",
        "values", "when", "where", "with",
    };
}
