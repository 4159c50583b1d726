using System.Globalization;
using MetricCompiler.Core.Model;

namespace MetricCompiler.Adapters;

/// <summary>A target that cannot be opened: unknown adapter, missing setting or environment variable.</summary>
public sealed class TargetException(string message) : Exception(message);

/// <summary>
/// Opens the adapter a target names. Any setting can be given as <c>key</c> or as <c>key_env</c>, the name of an
/// environment variable holding it; secrets must use the second form.
/// </summary>
public static class AdapterFactory
{
    /// <summary>The target used when the project declares none: the embedded DuckDB under target/.</summary>
    public static TargetDefinition DefaultTarget { get; } =
        new("dev", "duckdb", new Dictionary<string, string> { ["path"] = DuckDbDefaultPath }, Core.Diagnostics.SourceLocation.None);

    private const string SqliteDefaultPath = "target/warehouse.db";
    private const string DuckDbDefaultPath = "target/warehouse.duckdb";

    /// <summary>The database file of an embedded target (relative to the project), or null for a server or in-memory target.</summary>
    public static string? EmbeddedFile(TargetDefinition target)
    {
        var path = target.Adapter switch
        {
            "sqlite" => Setting(target, "path") ?? SqliteDefaultPath,
            "duckdb" => Setting(target, "path") ?? DuckDbDefaultPath,
            _ => null,
        };
        return path == ":memory:" ? null : path;
    }

    public static TargetDefinition Resolve(ProjectDefinition project, string? name)
    {
        name ??= project.DefaultTarget;
        if (name is null)
            return project.Targets.Count > 0 ? project.Targets[0] : DefaultTarget;
        return project.Targets.FirstOrDefault(t => t.Name == name)
            ?? (name == DefaultTarget.Name && project.Targets.Count == 0
                ? DefaultTarget
                : throw new TargetException($"target `{name}` is not declared; targets: {string.Join(", ", project.Targets.Select(t => t.Name))}"));
    }

    public static IWarehouseAdapter Open(TargetDefinition target, string projectRoot)
    {
        switch (target.Adapter)
        {
            case "sqlite":
                var relative = Setting(target, "path") ?? SqliteDefaultPath;
                var path = relative == ":memory:" ? relative : Path.GetFullPath(Path.Combine(projectRoot, relative));
                return SqliteAdapter.Open(path, relative);
            case "duckdb":
                var duckRelative = Setting(target, "path") ?? DuckDbDefaultPath;
                var duckPath = duckRelative == ":memory:" ? duckRelative : Path.GetFullPath(Path.Combine(projectRoot, duckRelative));
                return DuckDbAdapter.Open(duckPath, duckRelative);
            case "postgres":
                var portText = Setting(target, "port") ?? "5432";
                if (!int.TryParse(portText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port))
                    throw new TargetException($"target `{target.Name}`: port `{portText}` is not a number");
                return PostgresAdapter.Open(
                    Setting(target, "host") ?? "127.0.0.1",
                    port,
                    Required(target, "database"),
                    Required(target, "user"),
                    Setting(target, "password"),
                    Setting(target, "schema") ?? "public");
            default:
                throw new TargetException(
                    $"target `{target.Name}` uses adapter `{target.Adapter}`, which this version compiles SQL for but cannot execute yet; " +
                    "run `metricc compile --target " + target.Name + "` to get its SQL, or use a duckdb, sqlite or postgres target to run");
        }
    }

    /// <summary>A setting written directly, or read from the environment variable named by <c>key_env</c>.</summary>
    public static string? Setting(TargetDefinition target, string key)
    {
        if (target.Setting(key) is { } direct)
            return direct;
        if (target.Setting(key + "_env") is not { } variable)
            return null;
        return Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new TargetException($"target `{target.Name}`: environment variable `{variable}` (named by `{key}_env`) is not set");
    }

    private static string Required(TargetDefinition target, string key) =>
        Setting(target, key) ?? throw new TargetException($"target `{target.Name}` needs `{key}` (or `{key}_env`)");
}
