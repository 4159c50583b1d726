using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Validation;
using MetricCompiler.Execution.Running;
using MetricCompiler.Execution.Simulation;
using MetricCompiler.Planning.Experiments;

namespace MetricCompiler.Cli.Commands;

/// <summary>
/// <c>metricc simulate</c>: A/A calibration (and power with <c>--lift</c>) from the experiment's real per-unit table; see
/// docs/simulate.md. It reports; it does not judge: exit 0 whenever it ran.
/// </summary>
internal static class SimulateCommand
{
    /// <summary>Progress lines are printed from this many runs on.</summary>
    private const int ProgressFromRuns = 100;

    public static Command Create(CommandContext context)
    {
        var experimentOption = new Option<string>("--experiment", "-e") { Description = "Experiment id to simulate", Required = true };
        var runsOption = new Option<int>("--runs") { Description = "Number of random splits", DefaultValueFactory = _ => 1000 };
        var seedOption = new Option<ulong>("--seed") { Description = "Seed of the splits: the same seed gives the same report", DefaultValueFactory = _ => 1UL };
        var liftOption = new Option<double?>("--lift") { Description = "Relative lift injected into the B half (0.05 = +5%): reports power instead of false positives" };
        var metricOption = new Option<string[]>("--metric", "-m") { Description = "Metric the lift applies to (repeatable; default: each primary metric)" };
        var projectDirOption = new Option<string>("--project-dir") { Description = "Folder holding metrics.yml (default: the current folder)", DefaultValueFactory = _ => "." };
        var targetOption = new Option<string?>("--target", "-t") { Description = "Target from metrics.yml to use (default: default_target)" };
        var looksOption = new Option<int?>("--looks") { Description = "Guardrails are also checked at this many looks, as daily monitoring would (default: one per day of the window; 0: off)" };
        var formatOption = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
        formatOption.AcceptOnlyFromAmong("table", "json");

        var command = new Command("simulate",
            "Replay random A/A splits of an experiment's per-unit data through the statistics engine: false-positive rate and CI coverage per metric (power with --lift).")
        {
            experimentOption, runsOption, seedOption, liftOption, metricOption, looksOption, projectDirOption, targetOption, formatOption,
        };
        command.SetAction(parse =>
        {
            var json = parse.GetValue(formatOption) == "json";
            var runs = parse.GetValue(runsOption);
            if (runs is < 1 or > CalibrationSimulator.MaxRuns)
                throw new UsageException($"--runs must be between 1 and {CalibrationSimulator.MaxRuns.ToString("N0", CultureInfo.InvariantCulture)}, not {runs}");
            var lift = parse.GetValue(liftOption);
            if (lift is { } l && (!double.IsFinite(l) || l <= -1))
                throw new UsageException($"--lift is relative (0.05 = +5%) and must be greater than -1, not {l.ToString(CultureInfo.InvariantCulture)}");
            var looks = parse.GetValue(looksOption);
            if (looks is < 0 or > 366)
                throw new UsageException($"--looks must be between 0 (off) and 366, not {looks}");
            var metrics = parse.GetValue(metricOption) ?? [];
            if (metrics.Length > 0 && lift is null)
                throw new UsageException("--metric chooses the metric(s) --lift applies to; give --lift too (without it every metric is simulated A/A)");

            var load = ProjectLoader.Load(parse.GetValue(projectDirOption)!);
            ProjectCommands.PrintDiagnostics(context, load.Diagnostics);
            if (!load.Succeeded)
                return ExitCodes.Failure;
            var bound = load.Bound!;
            var project = bound.Definition;

            var id = parse.GetValue(experimentOption)!;
            var experiment = bound.FindExperiment(id);
            if (experiment is null)
            {
                var hint = NameSuggester.Hint(id, project.Experiments.Select(e => e.Id).ToList(), "experiment");
                throw new UsageException($"unknown experiment `{id}`{(hint is null ? "" : $"; {hint}")}");
            }

            var experimentMetrics = experiment.Metrics.Select(m => m.Metric.Name).ToList();
            var lowered = ExperimentLowering.Lower(experiment);
            foreach (var metric in metrics)
            {
                if (!experimentMetrics.Contains(metric, StringComparer.Ordinal))
                {
                    var hint = NameSuggester.Hint(metric, experimentMetrics, "metric");
                    throw new UsageException($"metric `{metric}` is not analysed by experiment `{id}`{(hint is null ? "" : $"; {hint}")}");
                }
            }

            UnitMetricsData data;
            try
            {
                var target = AdapterFactory.Resolve(project, parse.GetValue(targetOption));
                using var adapter = AdapterFactory.Open(target, project.RootDirectory);
                data = UnitMetricsReader.Read(adapter, lowered);
            }
            catch (TargetException e)
            {
                throw new UsageException(e.Message);
            }
            catch (Exception e) when (e is SimulationDataException or WarehouseException)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Failure;
            }

            var progressWriter = json ? context.Error : context.Output;
            Action<int, int>? progress = runs >= ProgressFromRuns
                ? (done, total) => progressWriter.WriteLine($"  simulated {done.ToString("N0", CultureInfo.InvariantCulture)} of {total.ToString("N0", CultureInfo.InvariantCulture)} runs ({done * 100L / total}%)")
                : null;
            var options = new SimulationOptions(runs, parse.GetValue(seedOption), lift ?? 0, metrics.Length > 0 ? metrics : null, looks);
            var clock = Stopwatch.StartNew();
            var report = CalibrationSimulator.Run(lowered, data, options, progress);
            if (json)
            {
                context.Output.WriteLine(SimulationReportJson.Serialize(report));
            }
            else
            {
                context.Output.WriteLine();
                SimulationReportText.Write(context.Output, report);
                context.Output.WriteLine($"{report.Runs.ToString("N0", CultureInfo.InvariantCulture)} runs in {clock.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
