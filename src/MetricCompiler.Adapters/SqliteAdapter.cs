using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Adapters;

/// <summary>The embedded default: a SQLite file (DDL is transactional, so the swap is atomic).</summary>
public sealed class SqliteAdapter : DbWarehouseAdapter
{
    private readonly string _path;

    private SqliteAdapter(SqliteConnection connection, string path)
        : base(connection, SqliteDialect.Instance) => _path = path;

    public override string Description => $"sqlite {_path}";

    public static SqliteAdapter Open(string path, string displayPath)
    {
        if (path != ":memory:")
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            // case_sensitive_like: `like` means what it means on every other engine (the dialect spells ilike with lower()).
            // temp_store stays SQLite's default (files): with it in memory, the sorts of staging held the whole history and
            // a build's peak memory grew with the events (docs/performance.md).
            pragma.CommandText = "pragma journal_mode = wal; pragma synchronous = normal; pragma cache_size = -65536; pragma case_sensitive_like = on;";
            pragma.ExecuteNonQuery();
        }

        connection.CreateFunction<string?, string, string?>("metricc_local_time", LocalTime, isDeterministic: true);
        connection.CreateFunction<string?, string?>("metricc_sha256", Sha256Hex, isDeterministic: true);
        return new SqliteAdapter(connection, displayPath);
    }

    /// <summary><c>metricc_sha256(text)</c>: the lowercase hex SHA-256 of the text's UTF-8 bytes (SQLite has no hash functions).</summary>
    private static string? Sha256Hex(string? text) =>
        text is null ? null : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// <c>metricc_local_time(utc_text, zone)</c>: SQLite has no time zones, so the dialect calls this for a UTC
    /// timestamp's wall-clock time in an IANA zone (the zone database of the machine, as .NET reads it).
    /// </summary>
    private static string? LocalTime(string? utc, string zone)
    {
        if (utc is null || !DateTime.TryParse(utc, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var instant))
            return null;
        var local = TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(instant, DateTimeKind.Utc), Zones.GetOrAdd(zone, TimeZoneInfo.FindSystemTimeZoneById));
        return local.ToString(local.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TimeZoneInfo> Zones = new(StringComparer.Ordinal);

    /// <summary>The SQLite connection itself (an in-memory database lives only as long as it).</summary>
    public new SqliteConnection Connection => (SqliteConnection)base.Connection;

    protected override int RowsPerInsert(int columns) => Loading.BatchedInsertSink.RowsPerStatement(isSqlite: true, columns);

    public override bool TableExists(string table) => TableExists(table, null);

    protected override bool TableExists(string table, DbTransaction? transaction)
    {
        using var command = Command("select count(*) from sqlite_master where type in ('table', 'view') and name = @name");
        command.Transaction = transaction;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@name";
        parameter.Value = UnqualifiedName(table);
        command.Parameters.Add(parameter);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }
}
