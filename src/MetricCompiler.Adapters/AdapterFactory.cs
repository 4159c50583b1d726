using MetricCompiler.Core.Model;

namespace MetricCompiler.Adapters;

/// <summary>A target that cannot be opened: unknown adapter, missing setting or environment variable.</summary>
public sealed class TargetException(string message) : Exception(message);

/// <summary>Opens the adapter a target names. Secrets are read from the environment variables the target points at.</summary>
public static class AdapterFactory
{
    /// <summary>The target used when the project declares none: SQLite under target/.</summary>
    public static TargetDefinition DefaultTarget { get; } =
        new("dev", "sqlite", new Dictionary<string, string> { ["path"] = "target/warehouse.db" }, Core.Diagnostics.SourceLocation.None);

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
                var relative = target.Setting("path") ?? "target/warehouse.db";
                var path = relative == ":memory:" ? relative : Path.GetFullPath(Path.Combine(projectRoot, relative));
                return SqliteAdapter.Open(path, relative);
            default:
                throw new TargetException(
                    $"target `{target.Name}` uses adapter `{target.Adapter}`, which this version compiles SQL for but cannot execute yet; " +
                    "run `metricc compile --target " + target.Name + "` to get its SQL, or use a sqlite target to run");
        }
    }
}
