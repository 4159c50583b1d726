using MetricCompiler.Adapters;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Model;
using MetricCompiler.Core.Semantics;

namespace MetricCompiler.Execution.Checks;

/// <summary>
/// <c>metricc validate --live</c>: reads the target's catalog and reports, at the YAML that declares it, a source table
/// the warehouse lacks, a declared column it lacks, and a column whose warehouse type cannot hold the declared type
/// (staging would fail or silently read nulls). Types compare by family, since engines spell them differently.
/// </summary>
public static class CatalogCheck
{
    /// <summary>What a warehouse type is, whatever the engine calls it.</summary>
    public enum TypeFamily
    {
        Text,
        Integer,
        Decimal,
        Boolean,
        Timestamp,
        Other,
    }

    public static IReadOnlyList<Diagnostic> Run(BoundProject project, IWarehouseAdapter adapter, string targetName)
    {
        var diagnostics = new DiagnosticBag();
        // A source that reads a SQL model has no warehouse table of its own to check: the model is built by the run.
        foreach (var source in project.Sources.Where(s => s.Definition.Model is null))
        {
            var parts = source.Table.Split('.');
            var columns = adapter.Query(adapter.Dialect.CatalogColumns(parts.Length > 1 ? parts[^2] : null, parts[^1]))
                .Select(r => (Name: Convert.ToString(r["column_name"], System.Globalization.CultureInfo.InvariantCulture) ?? "",
                    Type: Convert.ToString(r["data_type"], System.Globalization.CultureInfo.InvariantCulture) ?? ""))
                .ToList();
            if (columns.Count == 0)
            {
                diagnostics.Error(DiagnosticCodes.SourceTableMissing, source.Definition.At("table"),
                    $"source `{source.Name}`: table `{source.Table}` does not exist in target `{targetName}` ({adapter.Description})",
                    project.Definition.DemoData is not null ? "run `metricc seed` to load the demo data, or fix `table`" : "fix `table`, or load the table into the warehouse");
                continue;
            }

            foreach (var column in source.Definition.Columns)
            {
                var found = columns.FirstOrDefault(c => string.Equals(c.Name, column.Name, StringComparison.OrdinalIgnoreCase));
                if (found.Name is null or "")
                {
                    diagnostics.Error(DiagnosticCodes.SourceColumnMissing, column.Location,
                        $"source `{source.Name}`: column `{column.Name}` is not a column of `{source.Table}` in target `{targetName}`",
                        Core.Validation.NameSuggester.Hint(column.Name, columns.Select(c => c.Name).ToList(), "column") is { } hint && hint.StartsWith("did you mean", StringComparison.Ordinal)
                            ? hint
                            : $"the table's columns: {string.Join(", ", columns.Select(c => $"`{c.Name}`"))}; remove the column or add it to the table");
                    continue;
                }

                var family = Family(found.Type, adapter.Dialect.Name);
                if (!Holds(column.Type, family))
                {
                    diagnostics.Error(DiagnosticCodes.SourceColumnType, column.Location,
                        $"source `{source.Name}`: column `{column.Name}` is declared `{column.Type.ToString().ToLowerInvariant()}`, but `{source.Table}.{found.Name}` is `{found.Type}` in target `{targetName}`",
                        $"declare `type: {Suggest(family)}`, or cast the column in the warehouse");
                }
            }
        }

        return diagnostics.Items;
    }

    /// <summary>The family of an engine's type name (parameters such as <c>(38, 0)</c> or <c>(3)</c> ignored, except a decimal's scale).</summary>
    public static TypeFamily Family(string type, string dialect)
    {
        var t = type.Trim().ToLowerInvariant();
        var name = t.Split('(')[0].Trim();
        if (dialect == "sqlite" && name.Length == 0)
            return TypeFamily.Text; // no declared type: any value (affinity BLOB/none)
        if (name is "number" or "numeric" or "decimal" && t.Contains(',', StringComparison.Ordinal))
            return t.Replace(" ", "", StringComparison.Ordinal).EndsWith(",0)", StringComparison.Ordinal) ? TypeFamily.Integer : TypeFamily.Decimal;
        return name switch
        {
            "text" or "varchar" or "character varying" or "char" or "character" or "string" or "bpchar" or "nvarchar" or "nchar" or "clob" or "uuid" => TypeFamily.Text,
            "integer" or "int" or "bigint" or "smallint" or "tinyint" or "int2" or "int4" or "int8" or "hugeint" or "ubigint" or "uinteger" or "usmallint" or "utinyint" or "uhugeint" => TypeFamily.Integer,
            "double" or "double precision" or "real" or "float" or "float4" or "float8" or "numeric" or "decimal" or "number" => TypeFamily.Decimal,
            "boolean" or "bool" => TypeFamily.Boolean,
            "date" or "datetime" or "timestamptz" or "timestamp_ntz" or "timestamp_ltz" or "timestamp_tz" or "timestamp with time zone" or "timestamp without time zone" => TypeFamily.Timestamp,
            _ when name.StartsWith("timestamp", StringComparison.Ordinal) => TypeFamily.Timestamp,
            _ when dialect == "sqlite" && (name.Contains("char", StringComparison.Ordinal) || name.Contains("text", StringComparison.Ordinal)) => TypeFamily.Text,
            _ when dialect == "sqlite" && name.Contains("int", StringComparison.Ordinal) => TypeFamily.Integer,
            _ => TypeFamily.Other,
        };
    }

    /// <summary>
    /// Whether staging's cast of a column of this family to the declared type keeps every value: anything becomes text;
    /// a number takes integers and decimals; a boolean takes 0/1 integers; a timestamp takes native timestamps and ISO
    /// text (the timestamp contract).
    /// </summary>
    public static bool Holds(ColumnType declared, TypeFamily family) => family == TypeFamily.Other || declared switch
    {
        ColumnType.String => true,
        ColumnType.Integer => family is TypeFamily.Integer,
        ColumnType.Number => family is TypeFamily.Integer or TypeFamily.Decimal,
        ColumnType.Boolean => family is TypeFamily.Boolean or TypeFamily.Integer,
        ColumnType.Timestamp => family is TypeFamily.Timestamp or TypeFamily.Text,
        _ => true,
    };

    private static string Suggest(TypeFamily family) => family switch
    {
        TypeFamily.Integer => "integer",
        TypeFamily.Decimal => "number",
        TypeFamily.Boolean => "boolean",
        TypeFamily.Timestamp => "timestamp",
        _ => "string",
    };
}
