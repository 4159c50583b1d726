using System.CommandLine;
using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Semantics;
using MetricCompiler.Execution.Queries;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning.Queries;
using MetricCompiler.Sql.Dialects;

namespace MetricCompiler.Cli.Commands;

/// <summary>The metric layer for dashboards: <c>metricc query</c> and <c>metricc list</c>.</summary>
internal static class QueryCommands
{
    public static IEnumerable<Command> All(CommandContext context)
    {
        yield return Query(context);
        yield return List(context);
    }

    private static Command Query(CommandContext context)
    {
        var metrics = new Option<string[]>("--metrics", "-m") { Description = "Metrics to compute, comma-separated", Required = true, AllowMultipleArgumentsPerToken = true };
        var groupBy = new Option<string[]>("--group-by", "-g") { Description = "metric_time__day|week|month|quarter|year and dimensions (column or source__column), comma-separated", AllowMultipleArgumentsPerToken = true };
        var where = new Option<string?>("--where") { Description = "A condition over dimensions, in the expression language: \"country = 'DE'\"" };
        var start = new Option<string?>("--start") { Description = "First local date (YYYY-MM-DD, project time zone)" };
        var end = new Option<string?>("--end") { Description = "Last local date, included (YYYY-MM-DD)" };
        var order = new Option<string[]>("--order") { Description = "Columns to sort by; -name sorts descending", AllowMultipleArgumentsPerToken = true };
        var limit = new Option<int?>("--limit") { Description = "At most this many rows" };
        var explain = new Option<bool>("--explain") { Description = "Print the SQL only; touch no warehouse" };
        var format = new Option<string>("--format") { Description = "table, csv or json", DefaultValueFactory = _ => "table" };
        var command = new Command("query", "Compute metrics grouped by time and dimensions: one query, one scan per source.")
        {
            ProjectCommands.ProjectDir, ProjectCommands.Target, metrics, groupBy, where, start, end, order, limit, explain, format,
        };
        command.SetAction(parse =>
        {
            var load = ProjectLoader.Load(parse.GetValue(ProjectCommands.ProjectDir)!);
            if (!load.Succeeded || load.Bound is not { } project)
            {
                ProjectCommands.PrintDiagnostics(context, load.Diagnostics);
                return ExitCodes.Failure;
            }

            var request = new MetricQuery(
                Split(parse.GetValue(metrics)),
                Split(parse.GetValue(groupBy)),
                parse.GetValue(where),
                Date(parse.GetValue(start), "--start"),
                Date(parse.GetValue(end), "--end"),
                Split(parse.GetValue(order)),
                parse.GetValue(limit));
            var formatName = parse.GetValue(format)!;
            if (formatName is not ("table" or "csv" or "json"))
                throw new UsageException($"--format must be table, csv or json, not `{formatName}`");
            try
            {
                var target = AdapterFactory.Resolve(project.Definition, parse.GetValue(ProjectCommands.Target));
                if (parse.GetValue(explain))
                {
                    context.Output.Write(QueryRunner.Explain(project, request, SqlDialects.ForAdapter(target.Adapter)));
                    return ExitCodes.Success;
                }

                using var adapter = AdapterFactory.Open(target, project.Definition.RootDirectory);
                var result = QueryRunner.Run(project, request, adapter);
                context.Output.Write(formatName switch
                {
                    "csv" => QueryResultFormatter.Csv(result),
                    "json" => QueryResultFormatter.Json(result),
                    _ => QueryResultFormatter.Table(result),
                });
                return ExitCodes.Success;
            }
            catch (Exception e) when (e is QueryException or TargetException)
            {
                throw new UsageException(e.Message);
            }
            catch (WarehouseException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Failure;
            }
            catch (CompilationException e)
            {
                ProjectCommands.PrintDiagnostics(context, e.Diagnostics);
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    private static Command List(CommandContext context)
    {
        var what = new Argument<string>("what") { Description = "metrics, dimensions or experiments" };
        var command = new Command("list", "Print the catalog: metrics, dimensions or experiments, with descriptions and owners.") { ProjectCommands.ProjectDir, what };
        command.SetAction(parse =>
        {
            var load = ProjectLoader.Load(parse.GetValue(ProjectCommands.ProjectDir)!);
            if (!load.Succeeded || load.Bound is not { } project)
            {
                ProjectCommands.PrintDiagnostics(context, load.Diagnostics);
                return ExitCodes.Failure;
            }

            var rows = parse.GetValue(what) switch
            {
                "metrics" => Metrics(project),
                "dimensions" => Dimensions(project),
                "experiments" => Experiments(project),
                var other => throw new UsageException($"`metricc list {other}`: list metrics, dimensions or experiments"),
            };
            var widths = rows[0].Select((_, i) => rows.Max(r => r[i].Length)).ToList();
            foreach (var row in rows)
                context.Output.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
            return ExitCodes.Success;
        });
        return command;
    }

    private static List<string[]> Metrics(BoundProject project) =>
    [
        ["metric", "type", "owner", "per unit", "description"],
        .. project.Metrics.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => new[]
        {
            m.Name, m.Type.Name, m.Definition.Owner ?? "-", m.HasUnitValue ? "yes" : "no", m.Definition.Description ?? m.Summary,
        }),
    ];

    private static List<string[]> Dimensions(BoundProject project) =>
    [
        ["dimension", "source", "type", "joins by", "description"],
        .. project.Sources.OrderBy(s => s.Name, StringComparer.Ordinal).SelectMany(s => s.Columns
            .Where(c => c.Name != s.EventTime.Name)
            .Select(c => new[]
            {
                $"{s.Name}__{c.Name}", s.Name, c.Type.ToString().ToLowerInvariant(),
                s.IsOneRowPerEntity ? s.Entity.Name : "-", c.Description ?? "",
            })),
    ];

    private static List<string[]> Experiments(BoundProject project) =>
    [
        ["experiment", "dates", "owner", "primary", "name"],
        .. project.Experiments.OrderBy(e => e.Id, StringComparer.Ordinal).Select(e => new[]
        {
            e.Id, $"{e.Definition.Start:yyyy-MM-dd}..{e.Definition.End:yyyy-MM-dd}", e.Definition.Owner ?? "-",
            string.Join(",", e.Metrics.Where(m => m.Role == Core.Model.MetricRole.Primary).Select(m => m.Metric.Name)), e.Definition.Name ?? "",
        }),
    ];

    private static IReadOnlyList<string> Split(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    private static DateOnly? Date(string? text, string option)
    {
        if (text is null)
            return null;
        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new UsageException($"{option} must be a date written as YYYY-MM-DD, not `{text}`");
    }
}
