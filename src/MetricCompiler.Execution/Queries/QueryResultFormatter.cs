using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MetricCompiler.Execution.Queries;

/// <summary>Writes a query result as an aligned table, CSV (RFC 4180) or JSON.</summary>
public static class QueryResultFormatter
{
    public static string Table(QueryResult result)
    {
        var cells = result.Rows.Select(r => r.Select(Cell).ToList()).ToList();
        var widths = result.Columns.Select((c, i) => Math.Max(c.Length, cells.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToList();
        var numeric = result.Columns.Select((_, i) => result.Rows.All(r => r[i] is null or double)).ToList();
        var sb = new StringBuilder();
        string Line(IReadOnlyList<string> values) =>
            string.Join("  ", values.Select((v, i) => numeric[i] ? v.PadLeft(widths[i]) : v.PadRight(widths[i]))).TrimEnd();
        sb.Append(Line(result.Columns)).Append('\n');
        sb.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        foreach (var row in cells)
            sb.Append(Line(row)).Append('\n');
        sb.Append($"({result.Rows.Count} row{(result.Rows.Count == 1 ? "" : "s")}; dates in {result.TimeZone})\n");
        return sb.ToString();
    }

    public static string Csv(QueryResult result)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(",", result.Columns.Select(Escape))).Append("\r\n");
        foreach (var row in result.Rows)
            sb.Append(string.Join(",", row.Select(v => Escape(v is null ? "" : Raw(v))))).Append("\r\n");
        return sb.ToString();
    }

    public static string Json(QueryResult result)
    {
        var rows = new JsonArray();
        foreach (var row in result.Rows)
        {
            var o = new JsonObject();
            for (var i = 0; i < result.Columns.Count; i++)
                o[result.Columns[i]] = row[i] switch
                {
                    null => null,
                    double d when double.IsFinite(d) => JsonValue.Create(d),
                    double d => JsonValue.Create(d.ToString(CultureInfo.InvariantCulture)),
                    bool b => JsonValue.Create(b),
                    var v => JsonValue.Create(v.ToString()),
                };
            rows.Add(o);
        }

        var document = new JsonObject { ["time_zone"] = result.TimeZone, ["columns"] = new JsonArray(result.Columns.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()), ["rows"] = rows };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static string Cell(object? value) => value switch
    {
        null => "",
        double d when double.IsFinite(d) && Math.Abs(d - Math.Round(d)) < 1e-9 && Math.Abs(d) < 1e15 => d.ToString("#,0", CultureInfo.InvariantCulture),
        double d when double.IsFinite(d) => d.ToString("#,0.####", CultureInfo.InvariantCulture),
        _ => Raw(value),
    };

    private static string Raw(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => value.ToString() ?? "",
    };

    private static string Escape(string value) =>
        value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
}
