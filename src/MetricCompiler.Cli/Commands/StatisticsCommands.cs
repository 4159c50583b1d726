using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MetricCompiler.Execution.Running;
using MetricCompiler.Statistics;

namespace MetricCompiler.Cli.Commands;

/// <summary>The statistics engine on its own: <c>metricc stats</c> (aggregates in, readout out) and <c>metricc power</c>.</summary>
internal static class StatisticsCommands
{
    public static IEnumerable<Command> All(CommandContext context)
    {
        yield return Stats(context);
        yield return Power(context);
    }

    private static Command Stats(CommandContext context)
    {
        var input = new Option<string>("--input", "-i") { Description = "JSON file of per-variant sufficient statistics, or - for standard input", Required = true };
        var command = new Command("stats", "Compare variants from sufficient statistics (JSON in, JSON out); see docs/statistics.md.") { input };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(input)!;
            string json;
            try
            {
                json = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"cannot read `{path}`: {e.Message}");
            }

            try
            {
                context.Output.Write(StatsContract.Execute(json));
                context.Output.WriteLine();
                return ExitCodes.Success;
            }
            catch (StatsInputException e)
            {
                context.Error.WriteLine($"error: {(path == "-" ? "<stdin>" : path)}: {e.Message}");
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    private static Command Power(CommandContext context)
    {
        var kind = new Option<string>("--kind") { Description = "mean or proportion", DefaultValueFactory = _ => "mean" };
        kind.AcceptOnlyFromAmong("mean", "proportion");
        var baseline = new Option<double>("--baseline-mean") { Description = "Control mean (a rate for proportions)", Required = true };
        var std = new Option<double?>("--baseline-std") { Description = "Per-unit standard deviation (means)" };
        var mde = new Option<double?>("--mde") { Description = "Minimum detectable effect, relative (0.05 = 5%)" };
        var n = new Option<long?>("--n-per-variant") { Description = "Give the MDE reachable with this many units per variant instead" };
        var alpha = new Option<double>("--alpha") { DefaultValueFactory = _ => 0.05 };
        var power = new Option<double>("--power") { DefaultValueFactory = _ => 0.8 };
        var variants = new Option<int>("--variants") { DefaultValueFactory = _ => 2 };
        var daily = new Option<double?>("--daily-units") { Description = "Eligible units a day, to estimate the days needed" };
        var format = new Option<string>("--format") { DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "table");
        var command = new Command("power", "Sample size per variant (and days) for a minimum detectable effect, or the MDE for a sample size.")
        {
            kind, baseline, std, mde, n, alpha, power, variants, daily, format,
        };
        command.SetAction(parse =>
        {
            var metricKind = parse.GetValue(kind) == "proportion" ? MetricKind.Proportion : MetricKind.Mean;
            try
            {
                var result = new JsonObject
                {
                    ["kind"] = parse.GetValue(kind),
                    ["baseline_mean"] = parse.GetValue(baseline),
                    ["alpha"] = parse.GetValue(alpha),
                    ["power"] = parse.GetValue(power),
                    ["variants"] = parse.GetValue(variants),
                };
                var variance = PowerCalculator.MetricVariance(metricKind, parse.GetValue(baseline), parse.GetValue(std));
                result["variance"] = variance;
                if (parse.GetValue(n) is not null && parse.GetValue(mde) is not null)
                    throw new UsageException("give either --mde (to get the sample size) or --n-per-variant (to get the MDE), not both");
                if (parse.GetValue(n) is { } perVariant)
                {
                    result["n_per_variant"] = perVariant;
                    result["mde"] = PowerCalculator.MinimumDetectableEffect(variance, parse.GetValue(baseline), perVariant, parse.GetValue(alpha), parse.GetValue(power));
                }
                else if (parse.GetValue(mde) is { } effect)
                {
                    // A tiny MDE or a huge variance asks for more units than a long can count (it used to wrap to a
                    // negative total_units): anything beyond 10^15 units per variant is refused.
                    var exact = PowerCalculator.ExactSampleSizePerVariant(variance, parse.GetValue(baseline), effect, parse.GetValue(alpha), parse.GetValue(power));
                    if (!(exact <= MaxUnitsPerVariant))
                        throw new UsageException($"the sample size is {exact.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)} units per variant, more than the 10^15 this command reports: the MDE is far too small for this baseline (--mde)");
                    var plan = PowerCalculator.Plan(new PowerRequest(metricKind, parse.GetValue(baseline), effect, parse.GetValue(std),
                        parse.GetValue(alpha), parse.GetValue(power), parse.GetValue(variants), parse.GetValue(daily)));
                    result["mde"] = effect;
                    result["n_per_variant"] = plan.SampleSizePerVariant;
                    result["total_units"] = plan.TotalSampleSize;
                    result["days"] = plan.Days;
                }
                else
                {
                    throw new UsageException("give --mde (to get the sample size) or --n-per-variant (to get the MDE)");
                }

                if (parse.GetValue(format) == "json")
                {
                    context.Output.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                }
                else
                {
                    foreach (var (key, value) in result)
                        context.Output.WriteLine($"{key,-16} {value?.ToJsonString().Trim('"') ?? "n/a"}");
                }

                return ExitCodes.Success;
            }
            catch (ArgumentOutOfRangeException e)
            {
                // The engine's message ends with " (Parameter 'x')" and the value; keep only the sentence.
                var message = e.Message.Split(Environment.NewLine)[0];
                var parameter = message.IndexOf(" (Parameter", StringComparison.Ordinal);
                throw new UsageException($"{(parameter >= 0 ? message[..parameter] : message)} (--{Option(e.ParamName)})");
            }
        });
        return command;
    }

    /// <summary>10^15 units per variant: far beyond any experiment, and times any variant count still within a long.</summary>
    private const double MaxUnitsPerVariant = 1e15;

    private static string Option(string? parameter) => parameter switch
    {
        "stdDev" => "baseline-std",
        "baselineMean" => "baseline-mean",
        "relativeMde" => "mde",
        "sampleSizePerVariant" => "n-per-variant",
        "dailyUnits" => "daily-units",
        "request" => "variants",
        null => "input",
        _ => parameter,
    };
}
