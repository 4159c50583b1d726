using System.Runtime;

namespace MetricCompiler.Cli.Commands;

/// <summary>
/// How `metricc compile` (and its benchmark) collects garbage. A compile builds one large graph that lives to its end:
/// on two cores the background GC thread competes with it for a core, and blocking collections took a cached 10k-metric
/// compile from about 0.57 to 0.50 s. A run keeps background collections: blocking ones doubled the peak memory of a
/// PostgreSQL build (113 to 247 MB at 1M events) and made it no faster.
/// </summary>
internal static class CompileGc
{
    public static void Blocking() => GCSettings.LatencyMode = GCLatencyMode.Batch;
}
