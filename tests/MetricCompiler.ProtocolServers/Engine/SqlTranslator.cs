using System.Text;
using System.Text.RegularExpressions;

namespace MetricCompiler.ProtocolServers.Engine;

/// <summary>One rewrite of engine SQL into DuckDB SQL, applied to the text outside string literals.</summary>
public sealed record SqlRewrite(string Why, Regex Pattern, string Replacement);

/// <summary>
/// Turns a statement written for Trino or Snowflake into DuckDB SQL, translating only what truly differs: a few
/// function spellings and type names (the rest, e.g. <c>date_trunc</c>, <c>date_diff</c>, <c>cast</c>, CTAS,
/// <c>information_schema</c>, is the same SQL on DuckDB). Functions DuckDB lacks are DuckDB macros with the engine's
/// semantics (<see cref="DuckDbEngine"/> creates them). String literals and line comments are never rewritten;
/// Snowflake's backslash escapes inside literals are decoded.
/// </summary>
public sealed class SqlTranslator
{
    private readonly IReadOnlyList<SqlRewrite> _rewrites;
    private readonly bool _backslashEscapes;

    private SqlTranslator(IReadOnlyList<SqlRewrite> rewrites, bool backslashEscapes)
    {
        _rewrites = rewrites;
        _backslashEscapes = backslashEscapes;
    }

    public IReadOnlyList<SqlRewrite> Rewrites => _rewrites;

    private static Regex R(string pattern) => new(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled);

    public static SqlTranslator Trino { get; } = new(
    [
        new("timestamp(p): DuckDB's timestamp has one (microsecond) precision", R(@"\btimestamp\s*\(\s*\d+\s*\)"), "timestamp"),
        new("date_add(unit, n, x): DuckDB's date_add takes an interval", R(@"\bdate_add\s*\("), "mc_date_add("),
        new("sequence(start, stop, step): DuckDB calls it generate_series (of timestamps)", R(@"\bsequence\s*\("), "mc_sequence("),
    ], backslashEscapes: false);

    public static SqlTranslator Snowflake { get; } = new(
    [
        new("timestamp_ntz is DuckDB's timestamp", R(@"\btimestamp_ntz\b"), "timestamp"),
        new("number(p, s) is DuckDB's decimal(p, s)", R(@"\bnumber\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)"), "decimal($1, $2)"),
        new("dateadd(part, n, x): the part is a bare word in Snowflake", R(@"\bdateadd\s*\(\s*(\w+)\s*,"), "mc_date_add('$1',"),
        new("datediff(part, a, b): the part is a bare word in Snowflake", R(@"\bdatediff\s*\(\s*(\w+)\s*,"), "date_diff('$1',"),
        new("information_schema.tables.comment is table_comment in DuckDB", R(@"\bselect\s+comment\s+from\s+information_schema\.tables\b"), "select table_comment as comment from information_schema.tables"),
    ], backslashEscapes: true);

    /// <summary>The DuckDB text of <paramref name="sql"/>.</summary>
    public string Translate(string sql)
    {
        var output = new StringBuilder(sql.Length + 32);
        var code = new StringBuilder();
        var i = 0;
        while (i < sql.Length)
        {
            if (sql[i] == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                // A line comment is copied as it is: an apostrophe in it ("column's") starts no literal.
                output.Append(Rewrite(code.ToString()));
                code.Clear();
                var end = sql.IndexOf('\n', i);
                end = end < 0 ? sql.Length : end;
                output.Append(sql, i, end - i);
                i = end;
                continue;
            }

            if (sql[i] != '\'')
            {
                code.Append(sql[i++]);
                continue;
            }

            output.Append(Rewrite(code.ToString()));
            code.Clear();
            var literal = new StringBuilder();
            i++;
            while (i < sql.Length)
            {
                var c = sql[i];
                if (c == '\\' && _backslashEscapes && i + 1 < sql.Length)
                {
                    literal.Append(sql[i + 1] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', var other => other });
                    i += 2;
                }
                else if (c == '\'' && i + 1 < sql.Length && sql[i + 1] == '\'')
                {
                    literal.Append('\'');
                    i += 2;
                }
                else if (c == '\'')
                {
                    i++;
                    break;
                }
                else
                {
                    literal.Append(c);
                    i++;
                }
            }

            output.Append('\'').Append(literal.Replace("'", "''")).Append('\'');
        }

        output.Append(Rewrite(code.ToString()));
        return output.ToString();
    }

    private string Rewrite(string code)
    {
        foreach (var rewrite in _rewrites)
            code = rewrite.Pattern.Replace(code, rewrite.Replacement);
        return code;
    }
}
