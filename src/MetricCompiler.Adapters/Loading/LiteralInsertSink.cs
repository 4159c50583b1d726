using System.Globalization;
using System.Text;
using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Model;

namespace MetricCompiler.Adapters.Loading;

/// <summary>
/// Writes rows as multi-row <c>INSERT ... VALUES (...), (...)</c> statements with literal values, for protocols that
/// take statements only (Trino's and Snowflake's HTTP APIs). Doubles are written in shortest round-trip form with an
/// exponent (<c>1.5E0</c>), a double literal on every engine, so every value arrives bit for bit.
/// </summary>
public sealed class LiteralInsertSink(TableSpec table, SqlDialect dialect, Action<string> execute, int rowsPerStatement, int maxChars) : LoadSink(table)
{
    private readonly StringBuilder _values = new();
    private readonly string _prefix =
        $"insert into {dialect.QuoteRelation(table.Name)} ({string.Join(", ", table.Columns.Select(c => dialect.QuoteIdentifier(c.Name)))}) values ";
    private int _pending;

    protected override void Write(ReadOnlySpan<object?> values)
    {
        _values.Append(_pending == 0 ? "(" : ", (");
        for (var i = 0; i < values.Length; i++)
        {
            if (i > 0)
                _values.Append(", ");
            _values.Append(Literal(values[i], Table.Columns[i].Type));
        }

        _values.Append(')');
        if (++_pending >= rowsPerStatement || _values.Length >= maxChars)
            Flush();
    }

    public override void Complete() => Flush();

    private void Flush()
    {
        if (_pending == 0)
            return;
        execute(_prefix + _values);
        _values.Clear();
        _pending = 0;
    }

    /// <summary>The literal of one value in a column of <paramref name="type"/>.</summary>
    public string Literal(object? value, SqlType type)
    {
        if (value is null or DBNull)
            return "null";
        return type switch
        {
            SqlType.String => dialect.StringLiteral(Convert.ToString(value, CultureInfo.InvariantCulture)!),
            SqlType.Integer => Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
            SqlType.Boolean => dialect.BooleanLiteral(Convert.ToBoolean(value, CultureInfo.InvariantCulture)),
            SqlType.Timestamp => dialect.TimestampLiteral(Convert.ToDateTime(value, CultureInfo.InvariantCulture)),
            SqlType.Date => dialect.DateLiteral(value is DateOnly d ? d : DateOnly.FromDateTime(Convert.ToDateTime(value, CultureInfo.InvariantCulture))),
            _ => DoubleLiteral(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
        };
    }

    private static string DoubleLiteral(double number)
    {
        if (!double.IsFinite(number))
            throw new ArgumentException($"{number} cannot be written as a SQL literal; write null for a missing value");
        var text = number.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('E', StringComparison.Ordinal) ? text : text + "E0";
    }
}
