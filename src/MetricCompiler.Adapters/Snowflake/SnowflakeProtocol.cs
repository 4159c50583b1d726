using System.Text.Json;
using System.Text.Json.Serialization;

namespace MetricCompiler.Adapters.Snowflake;

/// <summary>The wire shapes of the SQL API v2 the client reads and writes (field names as documented).</summary>
internal static class SnowflakeProtocol
{
    public const string StatementsPath = "api/v2/statements";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>Body of <c>POST /api/v2/statements</c>.</summary>
internal sealed record SubmitStatementBody(
    [property: JsonPropertyName("statement")] string Statement,
    [property: JsonPropertyName("timeout")] long? Timeout,
    [property: JsonPropertyName("database")] string? Database,
    [property: JsonPropertyName("schema")] string? Schema,
    [property: JsonPropertyName("warehouse")] string? Warehouse,
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, string>? Parameters);

/// <summary>
/// The union of the documented answer objects: <c>ResultSet</c> (200), <c>QueryStatus</c> (202),
/// <c>QueryFailureStatus</c> (422) and <c>CancelStatus</c>; a partition after the first carries only <c>data</c>.
/// </summary>
internal sealed class StatementResponse
{
    [JsonPropertyName("code")] public string? Code { get; set; }
    [JsonPropertyName("sqlState")] public string? SqlState { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
    [JsonPropertyName("statementHandle")] public string? StatementHandle { get; set; }
    [JsonPropertyName("statementStatusUrl")] public string? StatementStatusUrl { get; set; }
    [JsonPropertyName("resultSetMetaData")] public ResultSetMetaData? ResultSetMetaData { get; set; }
    [JsonPropertyName("data")] public List<string?[]>? Data { get; set; }
    [JsonPropertyName("stats")] public StatsDto? Stats { get; set; }
}

internal sealed class ResultSetMetaData
{
    [JsonPropertyName("numRows")] public long NumRows { get; set; }
    [JsonPropertyName("format")] public string? Format { get; set; }
    [JsonPropertyName("rowType")] public List<RowTypeDto>? RowType { get; set; }
    [JsonPropertyName("partitionInfo")] public List<PartitionInfoDto>? PartitionInfo { get; set; }
}

internal sealed class RowTypeDto
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("scale")] public int? Scale { get; set; }
    [JsonPropertyName("precision")] public int? Precision { get; set; }
    [JsonPropertyName("nullable")] public bool? Nullable { get; set; }
}

internal sealed class PartitionInfoDto
{
    [JsonPropertyName("rowCount")] public long RowCount { get; set; }
    [JsonPropertyName("uncompressedSize")] public long? UncompressedSize { get; set; }
    [JsonPropertyName("compressedSize")] public long? CompressedSize { get; set; }
}

internal sealed class StatsDto
{
    [JsonPropertyName("numRowsInserted")] public long? NumRowsInserted { get; set; }
    [JsonPropertyName("numRowsUpdated")] public long? NumRowsUpdated { get; set; }
    [JsonPropertyName("numRowsDeleted")] public long? NumRowsDeleted { get; set; }
    [JsonPropertyName("numDuplicateRowsUpdated")] public long? NumDuplicateRowsUpdated { get; set; }
}
