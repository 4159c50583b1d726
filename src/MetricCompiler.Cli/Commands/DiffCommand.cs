using System.CommandLine;
using System.Globalization;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Execution.Diff;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Cli.Commands;

/// <summary><c>metricc diff --base REF</c>: what a pull request changes in the compiled project, as Markdown for its review.</summary>
internal static class DiffCommand
{
    public static Command Create(CommandContext context)
    {
        var baseRef = new Option<string>("--base") { Description = "The git ref to compare the working tree with (a branch, tag or commit)", Required = true };
        var output = new Option<string?>("--output", "-o") { Description = "Write the Markdown to this file instead of standard output" };
        var asOf = new Option<string?>("--as-of") { Description = "The date (YYYY-MM-DD) that decides which experiments are running (default: today in the project's time zone)" };
        var command = new Command("diff", "Compile the project at a git ref and in the working tree; print the changed nodes, their SQL diffs and what they affect, as Markdown for a pull request.")
        {
            ProjectCommands.ProjectDir, ProjectCommands.Target, baseRef, output, asOf,
        };
        command.SetAction(parse =>
        {
            var projectDir = parse.GetValue(ProjectCommands.ProjectDir)!;
            var gitRef = parse.GetValue(baseRef)!;
            DateOnly? date = null;
            if (parse.GetValue(asOf) is { } text)
            {
                if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                    throw new UsageException($"--as-of `{text}`: give a date as YYYY-MM-DD");
                date = parsed;
            }

            GitCheckout checkout;
            try
            {
                checkout = GitCheckout.Open(projectDir, gitRef);
            }
            catch (GitException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }

            using (checkout)
            {
                var head = ProjectSnapshots.Compile(projectDir, parse.GetValue(ProjectCommands.Target));
                if (head.Snapshot is not { } after)
                {
                    ProjectCommands.PrintDiagnostics(context, head.Diagnostics);
                    context.Error.WriteLine($"error: the working tree: {head.Error}");
                    return head.BadTarget ? ExitCodes.Usage : ExitCodes.Failure;
                }

                var label = $"`{gitRef}` ({checkout.Commit[..12]})";
                var based = ProjectSnapshots.Compile(checkout.ProjectDirectory, after.TargetName);
                if (based.Snapshot is not { } before)
                {
                    // Positions name the file as git does (`REF:path`), so `git show REF:path` opens it.
                    foreach (var diagnostic in based.Diagnostics.Where(d => d.IsError))
                        context.Error.WriteLine($"{gitRef}:{checkout.Prefix}{diagnostic.Format()}");
                    var errors = based.Diagnostics.Count(d => d.IsError);
                    if (errors > 0)
                        context.Error.WriteLine($"{errors} error(s) in the base");
                    context.Error.WriteLine($"error: the base {label}: {based.Error}; the diff needs a base that compiles");
                    return ExitCodes.Failure;
                }

                ProjectCommands.PrintDiagnostics(context, head.Diagnostics);
                var today = date ?? after.Today(DateTime.UtcNow);
                var diff = ProjectDiff.Compare(before, after, today, "a", "b");
                var markdown = DiffMarkdown.Render(diff, label, after.TargetName, after.Dialect, today);
                if (parse.GetValue(output) is { } path)
                {
                    try
                    {
                        File.WriteAllText(path, markdown);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        context.Error.WriteLine($"error: --output `{path}`: cannot write it: {e.Message}");
                        return ExitCodes.Failure;
                    }

                    context.Output.WriteLine(diff.HasChanges
                        ? $"wrote the diff against {label} to {path}: {diff.Nodes.Count} node(s), {diff.Metrics.Count} metric(s), {diff.Experiments.Count} experiment(s) differ"
                        : $"wrote {path}: no changes against {label}");
                }
                else
                    context.Output.Write(markdown);
                return ExitCodes.Success;
            }
        });
        return command;
    }
}
