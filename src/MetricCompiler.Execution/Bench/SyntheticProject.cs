using System.Globalization;
using System.Text;

namespace MetricCompiler.Execution.Bench;

/// <summary>
/// Writes a synthetic project for compile benchmarks: <c>metrics</c> metrics spread over one source per ten metrics
/// (simple aggregations of every kind with filters and expressions, ratios, derived metrics with offsets, cumulative
/// windows, funnels), and one experiment per fifty metrics with about twenty metrics each. Deterministic: the same
/// size gives the same files.
/// </summary>
public static class SyntheticProject
{
    private static readonly string[] Aggregations = ["count", "sum", "count_distinct", "average", "proportion", "max"];

    private static readonly string[] Events = ["page_view", "click", "purchase", "sign_up", "error", "search"];

    /// <summary>The file (under <c>models/</c>) that <see cref="ChangeFirstFilter"/> edits: the first source and its metrics.</summary>
    public const string EditedFile = "events_0000.yml";

    /// <summary>
    /// <paramref name="text"/> (of <see cref="EditedFile"/>) with the first metric's filter narrowed by
    /// <c>quantity &gt; revision</c>: one metric changed, read by the experiments that analyse it.
    /// </summary>
    public static string ChangeFirstFilter(string text, int revision)
    {
        const string end = "country in ('DE', 'FR', 'US')\"";
        var at = text.IndexOf(end, StringComparison.Ordinal);
        if (at < 0)
            throw new InvalidOperationException($"{EditedFile} has no metric filter to change");
        return string.Concat(text.AsSpan(0, at), string.Create(CultureInfo.InvariantCulture, $"country in ('DE', 'FR', 'US') and quantity > {revision}\""), text.AsSpan(at + end.Length));
    }

    public static void Write(string root, int metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(metrics, 10);
        Directory.CreateDirectory(Path.Combine(root, "models"));
        var sources = Math.Max(1, metrics / 10);
        var experiments = Math.Max(1, metrics / 50);
        File.WriteAllText(Path.Combine(root, "metrics.yml"), """
            version: 1
            name: synthetic
            default_target: dev
            targets:
              dev: {adapter: duckdb, path: target/warehouse.duckdb}
            include:
              - models/*.yml

            """);
        var file = new StringBuilder();
        var names = new List<(string Name, string Type)>();
        for (var s = 0; s < sources; s++)
        {
            file.Clear();
            var source = $"events_{s:D4}";
            file.Append(CultureInfo.InvariantCulture, $$"""
                sources:
                  - name: {{source}}
                    description: Product events of shard {{s}}.
                    table: raw_{{source}}
                    entity: user_id
                    event_time: occurred_at
                    unique_key: event_id
                    columns:
                      - {name: event_id, type: string}
                      - {name: user_id, type: string}
                      - {name: event_type, type: string}
                      - {name: occurred_at, type: timestamp}
                      - {name: country, type: string}
                      - {name: amount, type: number}
                      - {name: quantity, type: integer}
                metrics:

                """);
            for (var m = 0; m < 10 && names.Count < metrics; m++)
            {
                var index = names.Count;
                var name = $"m{index:D5}_{Events[index % Events.Length]}";
                var kind = index % 10;
                var eventType = Events[(index / 3) % Events.Length];
                switch (kind)
                {
                    case 7 when names.Count >= 7:
                        file.Append(CultureInfo.InvariantCulture, $"  - {{name: {name}, type: ratio, numerator: {names[^1].Name}, denominator: {names[^6].Name}, description: Ratio of a count to a sum}}\n");
                        names.Add((name, "ratio"));
                        break;
                    case 8 when names.Count >= 2 && names[^2].Type == "simple":
                        file.Append(CultureInfo.InvariantCulture, $"  - name: {name}\n    type: derived\n    expr: (current - last_week) / last_week\n    metrics:\n      - {{name: {names[^2].Name}, alias: current}}\n      - {{name: {names[^2].Name}, alias: last_week, offset: 7 days}}\n");
                        names.Add((name, "derived"));
                        break;
                    case 9:
                        file.Append(CultureInfo.InvariantCulture, $"  - {{name: {name}, type: cumulative, metric: m{index - 9:D5}_{Events[(index - 9) % Events.Length]}, window: 28 days}}\n");
                        names.Add((name, "cumulative"));
                        break;
                    default:
                        var agg = Aggregations[kind % Aggregations.Length];
                        var expr = agg switch { "sum" or "average" or "max" => ", expr: amount * quantity", "count_distinct" => ", expr: user_id", _ => "" };
                        file.Append(CultureInfo.InvariantCulture, $"  - {{name: {name}, source: {source}, agg: {agg}{expr}, filter: \"event_type = '{eventType}' and country in ('DE', 'FR', 'US')\", owner: team-{index % 7}, tags: [shard{s % 10}]}}\n");
                        names.Add((name, "simple"));
                        break;
                }
            }

            File.WriteAllText(Path.Combine(root, "models", $"{source}.yml"), file.ToString());
        }

        var perUnit = names.Where(n => n.Type is "simple" or "ratio").Select(n => n.Name).ToList();
        file.Clear();
        file.Append("sources:\n  - name: exposures\n    table: raw_exposures\n    entity: user_id\n    event_time: exposed_at\n    columns:\n" +
            "      - {name: user_id, type: string}\n      - {name: experiment_id, type: string}\n      - {name: variant, type: string}\n      - {name: exposed_at, type: timestamp}\n");
        file.Append("experiments:\n");
        for (var e = 0; e < experiments; e++)
        {
            var picked = Enumerable.Range(0, 20).Select(i => perUnit[(e * 20 + i) % perUnit.Count]).Distinct().ToList();
            file.Append(CultureInfo.InvariantCulture, $$"""
                  - id: exp_{{e:D3}}
                    exposure: {source: exposures, filter: "experiment_id = 'exp_{{e:D3}}'"}
                    variants:
                      - {name: control, weight: 0.5, control: true}
                      - {name: treatment, weight: 0.5}
                    start: 2026-01-05
                    end: 2026-01-18
                    analysis: {cuped: true, correction: holm}
                    metrics:
                      primary: [{{picked[0]}}]
                      secondary: [{{string.Join(", ", picked.Skip(1).Take(picked.Count - 3))}}]
                      guardrails:
                        - {metric: {{picked[^1]}}, harmful_direction: decrease, margin: 0.05}

                """);
        }

        File.WriteAllText(Path.Combine(root, "models", "experiments.yml"), file.ToString());
    }
}
