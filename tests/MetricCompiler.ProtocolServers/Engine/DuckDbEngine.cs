using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;

namespace MetricCompiler.ProtocolServers.Engine;

/// <summary>A result column: its name and DuckDB's type text (e.g. <c>BIGINT</c>, <c>DECIMAL(38,3)</c>).</summary>
public sealed record EngineColumn(string Name, string DuckDbType, Type ClrType);

/// <summary>What a statement produced: rows for a query, the kind of change and its row count otherwise.</summary>
public sealed record EngineResult(IReadOnlyList<EngineColumn> Columns, IReadOnlyList<object?[]> Rows, bool IsQuery, string UpdateType, long? UpdateCount);

/// <summary>A statement the engine refused or failed, with the message the server answers.</summary>
public sealed class EngineException(string message, bool isUserError) : Exception(message)
{
    public bool IsUserError { get; } = isUserError;
}

/// <summary>A statement as the engine received it, the DuckDB text it ran, and whether it succeeded.</summary>
public sealed record ExecutedStatement(string Sql, string Translated, string? Schema, bool Succeeded);

/// <summary>
/// An in-process DuckDB that executes what a protocol server receives, after <see cref="SqlTranslator"/>. Statements
/// run one at a time (a lock), in the session's schema (created on first use). Faults can be planted: the next
/// statement matching a predicate fails as the engine would report a failure.
/// </summary>
public sealed class DuckDbEngine : IDisposable
{
    private static readonly Regex Swap = new(@"^\s*alter\s+table\s+(\S+)\s+swap\s+with\s+(\S+)\s*;?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex QueryStart = new(@"^\s*(\(|with\b|select\b|values\b|show\b|describe\b|explain\b)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex LeadingComments = new(@"^(\s*(--[^\n]*\n|/\*.*?\*/))*\s*", RegexOptions.Singleline | RegexOptions.CultureInvariant);

    /// <summary>Functions DuckDB lacks, with the other engines' semantics (the session time zone is UTC).</summary>
    private static readonly string[] Macros =
    [
        // Trino's and Snowflake's date arithmetic by unit (a date comes back as a timestamp at midnight).
        "create or replace macro mc_date_add(unit, n, x) as case lower(unit) when 'day' then x + to_days(cast(n as integer)) " +
        "when 'week' then x + to_days(7 * cast(n as integer)) when 'month' then x + to_months(cast(n as integer)) " +
        "when 'year' then x + to_years(cast(n as integer)) when 'hour' then x + to_hours(cast(n as bigint)) end",
        // Trino: sequence(date, date, interval) is an array of dates.
        "create or replace macro mc_sequence(a, b, step) as list_transform(generate_series(cast(a as timestamp), cast(b as timestamp), step), d -> cast(d as date))",
        // Trino: ISO-8601 text to a timestamp with time zone (no zone: the session zone).
        "create or replace macro from_iso8601_timestamp(s) as cast(s as timestamptz)",
        // Trino: the same instant seen in another zone; with_timezone reads a naive timestamp in a zone.
        "create or replace macro at_timezone(x, z) as timezone(z, x)",
        "create or replace macro with_timezone(x, z) as timezone(z, x)",
        // Snowflake: text to timestamp_tz, null when it does not read.
        "create or replace macro try_to_timestamp_tz(s) as try_cast(s as timestamptz)",
        // Snowflake: convert_timezone(target, instant) and convert_timezone(source, target, naive).
        "create or replace macro convert_timezone(z, x) as timezone(z, x), (source, target, x) as timezone(target, timezone(source, x))",
    ];

    private readonly DuckDBConnection _connection;
    private readonly SqlTranslator _translator;
    private readonly Lock _lock = new();
    private readonly List<ExecutedStatement> _executed = [];
    private readonly List<(Func<string, bool> When, string Message)> _plantedFailures = [];
    private string? _schema;

    public DuckDbEngine(SqlTranslator translator)
    {
        _translator = translator;
        _connection = new DuckDBConnection("Data Source=:memory:");
        _connection.Open();
        Run("set TimeZone = 'UTC'");
        foreach (var macro in Macros)
            Run(macro);
    }

    /// <summary>Every statement received, in order.</summary>
    public IReadOnlyList<ExecutedStatement> Executed
    {
        get
        {
            lock (_lock)
                return [.. _executed];
        }
    }

    /// <summary>The next statement for which <paramref name="when"/> holds fails with <paramref name="message"/> (once).</summary>
    public void FailNext(Func<string, bool> when, string message = "planted failure")
    {
        lock (_lock)
            _plantedFailures.Add((when, message));
    }

    /// <summary>Runs one statement in <paramref name="schema"/> (null: the current one).</summary>
    public EngineResult Execute(string sql, string? schema)
    {
        lock (_lock)
        {
            var translated = _translator.Translate(sql);
            var planted = _plantedFailures.FindIndex(f => f.When(sql));
            if (planted >= 0)
            {
                var message = _plantedFailures[planted].Message;
                _plantedFailures.RemoveAt(planted);
                _executed.Add(new ExecutedStatement(sql, translated, schema, false));
                throw new EngineException(message, isUserError: false);
            }

            try
            {
                UseSchema(schema);
                var result = Swap.Match(translated) is { Success: true } swap
                    ? SwapTables(swap.Groups[1].Value, swap.Groups[2].Value)
                    : Run(translated);
                _executed.Add(new ExecutedStatement(sql, translated, schema, true));
                return result;
            }
            catch (DbException e)
            {
                _executed.Add(new ExecutedStatement(sql, translated, schema, false));
                throw new EngineException(e.Message.Trim(), isUserError: true);
            }
        }
    }

    /// <summary>Snowflake's <c>ALTER TABLE a SWAP WITH b</c>: the two names exchanged in one transaction.</summary>
    private EngineResult SwapTables(string first, string second)
    {
        var temporary = $"mc_swap_{Guid.NewGuid():N}";
        using var transaction = _connection.BeginTransaction();
        Run($"alter table {first} rename to {temporary}");
        Run($"alter table {second} rename to {Unqualified(first)}");
        Run($"alter table {temporary} rename to {Unqualified(second)}");
        transaction.Commit();
        return new EngineResult([], [], false, "ALTER TABLE", null);
    }

    private static string Unqualified(string name) => name[(name.LastIndexOf('.') + 1)..];

    private void UseSchema(string? schema)
    {
        if (schema is null || string.Equals(schema, _schema, StringComparison.OrdinalIgnoreCase))
            return;
        var quoted = "\"" + schema.ToLowerInvariant().Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        Run($"create schema if not exists {quoted}");
        Run($"use {quoted}");
        _schema = schema;
    }

    private EngineResult Run(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        var body = LeadingComments.Replace(sql, "");
        if (!QueryStart.IsMatch(body))
        {
            var count = command.ExecuteNonQuery();
            var kind = string.Join(' ', body.Split((char[])[' ', '\n', '\r', '\t'], 3, StringSplitOptions.RemoveEmptyEntries).Take(2)).ToUpperInvariant();
            return new EngineResult([], [], false, kind, count >= 0 ? count : null);
        }

        using var reader = command.ExecuteReader();
        var columns = Enumerable.Range(0, reader.FieldCount)
            .Select(i => new EngineColumn(reader.GetName(i), reader.GetDataTypeName(i), reader.GetFieldType(i)))
            .ToArray();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[columns.Length];
            for (var i = 0; i < row.Length; i++)
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }

        return new EngineResult(columns, rows, true, "SELECT", rows.Count);
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>Digits after the point of a <c>DECIMAL(p,s)</c> column; 0 otherwise.</summary>
    public static int DecimalScale(EngineColumn column) =>
        Regex.Match(column.DuckDbType, @"DECIMAL\((\d+),\s*(\d+)\)", RegexOptions.IgnoreCase) is { Success: true } m
            ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)
            : 0;
}
