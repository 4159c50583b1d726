namespace MetricCompiler.Sql.Dialects.Keywords;

/// <summary>Snowflake reserved and limited keywords (docs.snowflake.com/sql-reference/reserved-keywords).</summary>
internal static class SnowflakeKeywords
{
    public static IReadOnlySet<string> Words { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "account", "all", "alter", "and", "any", "as", "asc", "between", "by", "case", "cast", "check", "column",
        "connect", "connection", "constraint", "create", "cross", "current", "current_date", "current_time",
        "current_timestamp", "current_user", "database", "delete", "desc", "distinct", "drop", "else", "exists",
        "false", "following", "for", "from", "full", "grant", "group", "gscluster", "having", "ilike", "in",
        "increment", "inner", "insert", "intersect", "into", "is", "issue", "join", "lateral", "left", "like",
        "localtime", "localtimestamp", "minus", "natural", "not", "null", "of", "on", "or", "order", "organization",
        "qualify", "regexp", "revoke", "right", "rlike", "row", "rows", "sample", "schema", "select", "set", "some",
        "start", "table", "tablesample", "then", "to", "trigger", "true", "try_cast", "union", "unique", "update",
        "using", "values", "view", "when", "whenever", "where", "window", "with",
    };
}
