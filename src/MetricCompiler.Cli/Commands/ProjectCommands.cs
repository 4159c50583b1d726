using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MetricCompiler.Adapters;
using MetricCompiler.Cli.Output;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Core.Loading;
using MetricCompiler.DemoData;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;

namespace MetricCompiler.Cli.Commands;

/// <summary>Commands that work on a project: validate, compile, run, seed, build, ls.</summary>
internal static class ProjectCommands
{
    internal static readonly Option<string> ProjectDir = new("--project-dir")
    {
        Description = "Folder holding metrics.yml (default: the current folder)",
        DefaultValueFactory = _ => ".",
    };

    internal static readonly Option<string?> Target = new("--target", "-t") { Description = "Target from metrics.yml to use (default: default_target)" };

    private static readonly Option<string[]> Select = new("--select", "-s")
    {
        Description = "Nodes to run: name, glob, tag:x, with + for ancestors (+name) or descendants (name+)",
        AllowMultipleArgumentsPerToken = true,
    };

    private static readonly Option<string[]> Exclude = new("--exclude") { Description = "Nodes to leave out (same syntax as --select)", AllowMultipleArgumentsPerToken = true };

    private static readonly Option<string?> State = new("--state") { Description = "The target folder of an earlier run (its manifest.json), for --select state:modified" };

    private static readonly Option<int> Threads = new("--threads")
    {
        Description = "How many independent nodes to build at once, each on its own connection (SQLite and in-memory DuckDB run serially)",
        DefaultValueFactory = _ => 1,
    };

    private static readonly Option<string?> Now = new("--now")
    {
        Description = "The reference time source freshness is measured at, in UTC (2026-01-26T06:00:00Z); default: the current time",
    };

    private static readonly Option<bool> FullRefresh = new("--full-refresh")
    {
        Description = "Rebuild incremental models from all their rows instead of recomputing only their latest days, and rebuild every table (implies --no-reuse)",
    };

    private static readonly Option<bool> NoReuse = new("--no-reuse")
    {
        Description = "Build every selected table, none kept in place because nothing it reads changed (incremental models still recompute only their latest days)",
    };

    private static readonly Option<string?> Vars = new("--vars") { Description = "Values for {{ var('x') }} in SQL models and tests, as YAML: '{x: 1, countries: [DE, FR]}'" };

    public static IEnumerable<Command> All(CommandContext context)
    {
        yield return Validate(context);
        yield return Compile(context);
        yield return RunCommand(context, "run", "Compile, build the selected tables in the warehouse, and print the experiment readouts.", seedFirst: false);
        yield return Seed(context);
        yield return RunCommand(context, "build", "Seed the demo data if it is missing, then run everything (compile, build tables, readout).", seedFirst: true);
        yield return List(context);
        yield return TestCommand(context);
    }

    private static Command TestCommand(CommandContext context)
    {
        var command = new Command("test", "Run the data tests (YAML tests on sources, models and metrics; tests/*.sql) against the tables in place.")
        {
            ProjectDir, Target, Select, Exclude, Vars, State, Now,
        };
        command.SetAction(parse =>
        {
            if (TryRequest(context, parse) is not { } request)
                return ExitCodes.Usage;
            var outcome = new ProjectRunner(new ConsoleRunObserver(context.Output)).Test(request);
            PrintDiagnostics(context, outcome.Diagnostics);
            var counts = outcome.Results.GroupBy(r => r.Status).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}");
            if (outcome.Results.Count > 0)
            {
                context.Output.WriteLine();
                context.Output.WriteLine($"Tests: {string.Join(", ", counts)}");
            }

            if (outcome.Error is not null)
            {
                context.Error.WriteLine($"error: {outcome.Error}");
                return outcome.ExitCode;
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The request, or null when <c>--vars</c> cannot be read (reported as bad usage).</summary>
    private static RunRequest? TryRequest(CommandContext context, ParseResult parse)
    {
        try
        {
            return Request(parse) with
            {
                Vars = Core.Models.SqlTemplate.ParseVars(parse.GetValue(Vars)),
                StateDirectory = parse.GetValue(State),
                Now = ReferenceTime(parse.GetValue(Now)),
            };
        }
        catch (FormatException e)
        {
            context.Error.WriteLine($"error: {e.Message}");
            return null;
        }
    }

    /// <summary><c>--now</c>: an ISO date and time, in UTC unless it names its offset.</summary>
    /// <exception cref="FormatException">It is not one.</exception>
    private static DateTime? ReferenceTime(string? text)
    {
        if (text is null)
            return null;
        if (DateTime.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var now))
            return now;
        throw new FormatException($"--now `{text}` is not a date and time; write it as 2026-01-26T06:00:00Z");
    }

    private static Command Validate(CommandContext context)
    {
        var offline = new Option<bool>("--offline") { Description = "Skip the checks that read the warehouse (power of each experiment against baseline data)" };
        var live = new Option<bool>("--live")
        {
            Description = "Also read the target's catalog: every source table and declared column must exist, with a type that holds the declared one (MC5003-MC5005)",
        };
        var command = new Command("validate", "Load and check the project; report every problem with its location; check each experiment's power against the warehouse's data.")
        {
            ProjectDir, Target, offline, live,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(offline) && parse.GetValue(live))
            {
                context.Error.WriteLine("error: --live reads the warehouse and --offline does not; give one of them");
                return ExitCodes.Usage;
            }

            var load = ProjectLoader.Load(parse.GetValue(ProjectDir)!);
            if (load.Succeeded && UnknownTarget(context, load.Project!, parse.GetValue(Target)) is { } usage)
                return usage;
            var diagnostics = load.Diagnostics.ToList();
            var planned = load.Succeeded && TryPlan(load.Bound!, diagnostics) is not null;
            if (planned && parse.GetValue(live))
            {
                if (LiveChecks(context, load.Bound!, parse.GetValue(Target)) is not { } catalog)
                {
                    PrintDiagnostics(context, diagnostics);
                    return ExitCodes.Warehouse;
                }

                diagnostics.AddRange(catalog);
            }

            if (planned && !parse.GetValue(offline))
                diagnostics.AddRange(WarehouseChecks(context, load.Bound!, parse.GetValue(Target)));
            PrintDiagnostics(context, diagnostics);
            if (!planned || diagnostics.Any(d => d.IsError))
                return ExitCodes.Failure;
            var p = load.Project!;
            context.Output.WriteLine($"ok: {p.Sources.Count} source(s), {p.Metrics.Count} metric(s), {p.Experiments.Count} experiment(s) in {p.Files.Count} file(s)");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The plan, or null with the planning diagnostics (a metric that cannot be materialized) added.</summary>
    private static ExecutionPlan? TryPlan(Core.Semantics.BoundProject bound, List<Diagnostic> diagnostics)
    {
        try
        {
            return Planner.Plan(bound);
        }
        catch (CompilationException e)
        {
            diagnostics.AddRange(e.Diagnostics);
            return null;
        }
    }

    /// <summary>A <c>--target</c> that the project does not declare is bad usage (exit 2), whatever the command.</summary>
    private static int? UnknownTarget(CommandContext context, Core.Model.ProjectDefinition project, string? targetName)
    {
        try
        {
            AdapterFactory.Resolve(project, targetName);
            return null;
        }
        catch (TargetException e)
        {
            PrintDiagnostics(context, []);
            context.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
    }

    /// <summary>The catalog checks of <c>--live</c>; null (with the error printed) when the warehouse cannot be read, since they were asked for.</summary>
    private static IReadOnlyList<Diagnostic>? LiveChecks(CommandContext context, Core.Semantics.BoundProject bound, string? targetName)
    {
        var project = bound.Definition;
        try
        {
            var target = AdapterFactory.Resolve(project, targetName);
            if (AdapterFactory.EmbeddedFile(target) is { } path && !File.Exists(Path.Combine(project.RootDirectory, path)))
            {
                context.Error.WriteLine($"error: --live: warehouse `{path}` of target `{target.Name}` does not exist" +
                    (project.DemoData is not null ? "; run `metricc seed` to load the demo data" : ""));
                return null;
            }

            using var adapter = AdapterFactory.Open(target, project.RootDirectory);
            return Execution.Checks.CatalogCheck.Run(bound, adapter, target.Name);
        }
        catch (Exception e) when (e is TargetException || ProjectRunner.IsWarehouseFailure(e))
        {
            context.Error.WriteLine($"error: --live: cannot read the catalog of the warehouse: {e.Message}");
            return null;
        }
    }

    /// <summary>Checks that need data: skipped (with a note) when the target's warehouse cannot be opened.</summary>
    private static IReadOnlyList<Diagnostic> WarehouseChecks(CommandContext context, Core.Semantics.BoundProject bound, string? targetName)
    {
        var project = bound.Definition;
        try
        {
            var target = AdapterFactory.Resolve(project, targetName);
            if (AdapterFactory.EmbeddedFile(target) is { } path && !File.Exists(Path.Combine(project.RootDirectory, path)))
            {
                context.Output.WriteLine($"note: warehouse `{path}` does not exist yet; power checks skipped");
                return [];
            }

            using var adapter = AdapterFactory.Open(target, project.RootDirectory);
            return Execution.Checks.PowerCheck.Run(bound, adapter);
        }
        catch (Exception e) when (e is TargetException || ProjectRunner.IsWarehouseFailure(e))
        {
            context.Output.WriteLine($"note: power checks skipped: {e.Message}");
            return [];
        }
    }

    private static Command Compile(CommandContext context)
    {
        var noCache = new Option<bool>("--no-cache")
        {
            Description = "Parse every file and render every node again instead of reusing target/compile_cache/ (the output is the same)",
        };
        var command = new Command("compile", "Write target/compiled/<node>.sql and target/manifest.json without touching the warehouse.")
        {
            ProjectDir, Target, Select, Exclude, Vars, State, noCache,
        };
        command.SetAction(parse =>
        {
            if (TryRequest(context, parse) is not { } request)
                return ExitCodes.Usage;
            request = request with { UseCompileCache = !parse.GetValue(noCache) };
            CompileGc.Blocking();
            var outcome = new ProjectRunner(SilentObserver.Instance).Compile(request);
            PrintDiagnostics(context, outcome.Diagnostics);
            if (outcome.Error is not null)
            {
                context.Error.WriteLine($"error: {outcome.Error}");
                return outcome.ExitCode;
            }

            var sqlNodes = outcome.Compiled.Count(c => c.Sql is not null);
            // With --select, only the selected nodes' SQL is written (the manifest always describes the whole project).
            context.Output.WriteLine($"compiled {sqlNodes} SQL node(s) and the manifest into {Path.Combine(parse.GetValue(ProjectDir)!, "target")}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static readonly Option<bool> Quiet = new("--quiet", "-q")
    {
        Description = "Print only errors, each experiment's decision and the final summary (no progress, no readouts)",
    };

    private static readonly Option<string> LogFormatOption = new Option<string>("--log-format")
    {
        Description = "text (progress lines, or a live display on a terminal) or json (one event per line on stdout; docs/orchestration.md)",
        DefaultValueFactory = _ => "text",
    }.AcceptOnlyFromAmong("text", "json");

    private static Command RunCommand(CommandContext context, string name, string description, bool seedFirst)
    {
        var command = new Command(name, description) { ProjectDir, Target, Select, Exclude, Vars, State, Threads, Quiet, LogFormatOption, FullRefresh, NoReuse, Now };
        command.SetAction(parse =>
        {
            var format = parse.GetValue(LogFormatOption) == "json" ? LogFormat.Json : LogFormat.Text;
            using var report = RunReport.Create(name, context.Output, context.Error, format, parse.GetValue(Quiet), context.Terminal);
            if (TryRequest(context, parse) is not { } request)
                return report.Finish(ExitCodes.Usage, null);
            var threads = parse.GetValue(Threads);
            if (threads < 1)
            {
                context.Error.WriteLine($"error: --threads {threads}: give 1 or more");
                return report.Finish(ExitCodes.Usage, null);
            }

            request = request with { Threads = threads, FullRefresh = parse.GetValue(FullRefresh), NoReuse = parse.GetValue(NoReuse) };
            if (seedFirst)
            {
                var seeded = SeedDemoData(context, request, onlyIfMissing: true, report.Seeding);
                if (seeded != ExitCodes.Success)
                    return report.Finish(seeded, null);
            }

            var outcome = report.Track(() => new ProjectRunner(report).Run(request));
            report.Diagnostics(outcome.Diagnostics);
            return report.Finish(outcome.Error is null ? ExitCodes.Success : outcome.ExitCode, outcome);
        });
        return command;
    }

    private static Command Seed(CommandContext context)
    {
        var events = new Option<long?>("--events")
        {
            Description = "Scale the demo data to about this many raw events (as many users as that needs; the demo_data seed stays), e.g. 3000000",
        };
        var command = new Command("seed", "Load the project's demo data (demo_data in metrics.yml) into the target, replacing it.") { ProjectDir, Target, events };
        command.SetAction(parse => SeedDemoData(context, Request(parse), onlyIfMissing: false, context.Output.WriteLine, parse.GetValue(events)));
        return command;
    }

    private static Command List(CommandContext context)
    {
        var command = new Command("ls", "List the nodes a selection picks, in run order.") { ProjectDir, Target, Select, Exclude };
        command.SetAction(parse =>
        {
            var load = ProjectLoader.Load(parse.GetValue(ProjectDir)!);
            var diagnostics = load.Diagnostics.ToList();
            var plan = load.Succeeded ? TryPlan(load.Bound!, diagnostics) : null;
            PrintDiagnostics(context, diagnostics);
            if (plan is null)
                return ExitCodes.Failure;
            if (UnknownTarget(context, load.Project!, parse.GetValue(Target)) is { } usage)
                return usage;
            try
            {
                foreach (var node in NodeSelector.Select(plan, parse.GetValue(Select) ?? [], parse.GetValue(Exclude) ?? []))
                    context.Output.WriteLine($"{node.Name,-40} {node.KindName,-13} {string.Join(",", node.Tags)}");
            }
            catch (SelectorException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <param name="say">Where progress lines go (stdout, or the run's report: quiet drops them, JSON makes events of them).</param>
    private static int SeedDemoData(CommandContext context, RunRequest request, bool onlyIfMissing, Action<string> say, long? events = null)
    {
        if (events is < 1)
        {
            context.Error.WriteLine($"error: --events {events}: give 1 or more");
            return ExitCodes.Usage;
        }

        var load = ProjectLoader.Load(request.ProjectPath);
        if (!load.Succeeded)
        {
            PrintDiagnostics(context, load.Diagnostics);
            return ExitCodes.Failure;
        }

        var project = load.Project!;
        if (project.DemoData is not { } demo)
        {
            if (onlyIfMissing)
                return ExitCodes.Success;
            context.Error.WriteLine("error: this project declares no `demo_data`; nothing to seed");
            return ExitCodes.Usage;
        }

        try
        {
            var target = AdapterFactory.Resolve(project, request.Target);
            using var adapter = AdapterFactory.Open(target, project.RootDirectory);
            var tables = project.Sources.Where(s => s.Model is null).Select(s => s.Table).ToList();
            if (onlyIfMissing && tables.All(adapter.TableExists))
                return ExitCodes.Success;
            var options = events is { } scale ? DemoDataOptions.ForEvents(scale, demo.Seed) : new DemoDataOptions(demo.Users, demo.Seed);
            say($"Seeding demo data ({options.Users.ToString("N0", CultureInfo.InvariantCulture)} users, seed {demo.Seed}) into {adapter.Description} ...");
            var clock = Stopwatch.StartNew();
            // The raw tables are replaced: the next run stages and builds every incremental table in full.
            RunState.Forget(Path.Combine(project.RootDirectory, "target"), target.Name);
            var summary = DemoDataGenerator.Seed(adapter, options,
                new ImmediateProgress(message => say($"  {message}")));
            say(
                $"Seeded {summary.Users:N0} users, {summary.Events:N0} events ({summary.DuplicateEvents:N0} duplicated), " +
                $"{summary.Exposures:N0} exposures in {clock.Elapsed.TotalSeconds:0.0}s; checksum {summary.Checksum[..12]}");
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is TargetException or ArgumentOutOfRangeException || ProjectRunner.IsWarehouseFailure(e))
        {
            context.Error.WriteLine($"error: {e.Message}");
            return e switch
            {
                TargetException => ExitCodes.Usage,
                ArgumentOutOfRangeException => ExitCodes.Failure,
                _ => ExitCodes.Warehouse,
            };
        }
    }

    /// <summary>Reports on the calling thread, so progress lines print in order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class ImmediateProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }

    private static RunRequest Request(ParseResult parse) =>
        new(parse.GetValue(ProjectDir)!, parse.GetValue(Target), parse.GetValue(Select) ?? [], parse.GetValue(Exclude) ?? []);

    internal static void PrintDiagnostics(CommandContext context, IReadOnlyList<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
            context.Error.WriteLine(diagnostic.Format());
        var errors = diagnostics.Count(d => d.IsError);
        var warnings = diagnostics.Count - errors;
        if (errors > 0)
            context.Error.WriteLine($"{errors} error(s), {warnings} warning(s)");
    }
}
