using MetricCompiler.Planning;
using MetricCompiler.Sql.Dialects;
using MetricCompiler.Sql.Rendering;

namespace MetricCompiler.Execution.Caching;

/// <summary>
/// <see cref="PlanCompiler.Compile(ExecutionPlan, SqlDialect)"/> with a cache: a node whose fingerprint the cache knows
/// gets the SQL rendered for it then; every other node is rendered and remembered. The result is the same list.
/// </summary>
public static class CachedCompiler
{
    public static IReadOnlyList<CompiledNode> Compile(ExecutionPlan plan, SqlDialect dialect, IReadOnlyDictionary<string, string> fingerprints, CompileCache cache)
    {
        var renderer = SqlRenderer.ForReview(dialect);
        var result = new List<CompiledNode>(plan.Nodes.Count);
        foreach (var node in plan.Nodes)
        {
            if (node.Query is null || !fingerprints.TryGetValue(node.Name, out var fingerprint))
            {
                result.Add(PlanCompiler.Compile(node, renderer));
                continue;
            }

            if (cache.FindSql(node.Name, fingerprint) is { } cached)
            {
                result.Add(new CompiledNode(node, cached.Sql, cached.Checksum));
                continue;
            }

            var compiled = PlanCompiler.Compile(node, renderer);
            cache.RememberSql(node.Name, new CachedSql(fingerprint, compiled.Sql!, compiled.Checksum));
            result.Add(compiled);
        }

        return result;
    }
}
