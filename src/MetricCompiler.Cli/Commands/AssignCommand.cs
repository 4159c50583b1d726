using System.CommandLine;
using System.Globalization;
using MetricCompiler.Assignment;
using MetricCompiler.Core.Loading;
using MetricCompiler.Core.Validation;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Cli.Commands;

/// <summary>
/// <c>metricc assign</c>: the variant an experiment's declared assignment gives a unit, computed as the SDKs compute it
/// (the same <see cref="Assigner"/> the run's assignment audit uses).
/// </summary>
public static class AssignCommand
{
    public static Command Create(CommandContext context)
    {
        var experimentOption = new Option<string>("--experiment") { Description = "Experiment id", Required = true };
        var unitOption = new Option<string[]>("--unit")
        {
            Description = "The unit's hash value; with several hash attributes give each value in declared order (--unit acme --unit 42)",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("assign", "Print the variant an experiment's declared assignment gives a unit (the SDKs' hash).")
        {
            ProjectCommands.ProjectDir, experimentOption, unitOption,
        };
        command.SetAction(parse =>
        {
            var load = ProjectLoader.Load(parse.GetValue(ProjectCommands.ProjectDir)!);
            if (!load.Succeeded || load.Bound is not { } project)
            {
                ProjectCommands.PrintDiagnostics(context, load.Diagnostics);
                return ExitCodes.Failure;
            }

            var id = parse.GetValue(experimentOption)!;
            var experiment = project.Experiments.FirstOrDefault(e => e.Id == id)
                ?? throw new UsageException($"no experiment `{id}`: " + (NameSuggester.Hint(id, project.Experiments.Select(e => e.Id).ToList(), "experiment")
                    ?? $"experiments: {string.Join(", ", project.Experiments.Select(e => e.Id))}"));
            if (experiment.Holdout is { } holdout)
            {
                var held = parse.GetValue(unitOption)!;
                if (held.Length != holdout.HashAttributes.Count)
                    throw new UsageException($"holdout `{id}` hashes {holdout.HashAttributes.Count} attribute(s) ({string.Join(", ", holdout.HashAttributes.Select(a => a.Name))}); give one --unit per attribute, in that order");
                var heldUnit = Assigner.HashValue(held);
                context.Output.WriteLine($"{holdout.VariantOf(heldUnit)}   (position {holdout.Range.Position(heldUnit).ToString("0.####", CultureInfo.InvariantCulture)} in namespace `{holdout.Range.Name}`, " +
                    $"holdout [{holdout.Range.Start.ToString(CultureInfo.InvariantCulture)}, {holdout.Range.End.ToString(CultureInfo.InvariantCulture)}))");
                return ExitCodes.Success;
            }

            if (experiment.Assignment is not { } assignment)
            {
                context.Error.WriteLine($"error: experiment `{id}` declares no `assignment:`; its variants come from the exposure log only");
                context.Error.WriteLine("  hint: declare `assignment: {hash_attribute: <column>, seed: <seed>, hash_version: 2}` to assign and audit it");
                return ExitCodes.Failure;
            }

            var values = parse.GetValue(unitOption)!;
            if (values.Length != assignment.HashAttributes.Count)
                throw new UsageException($"experiment `{id}` hashes {assignment.HashAttributes.Count} attribute(s) ({string.Join(", ", assignment.HashAttributes.Select(a => a.Name))}); give one --unit per attribute, in that order");

            var unit = Assigner.HashValue(values);
            var result = Assigner.Assign(assignment.Rule, unit);
            var bucket = result.Bucket is { } b ? $"bucket {b.ToString("0.####", CultureInfo.InvariantCulture)}, " : "";
            var how = $"{bucket}seed `{assignment.Rule.Seed}`, hash version {assignment.Rule.HashVersion}";
            context.Output.WriteLine(result.Reason switch
            {
                AssignmentReason.Hashed => $"{result.Variant}   ({how})",
                AssignmentReason.Override => $"{result.Variant}   (override for unit `{unit}`)",
                AssignmentReason.OutsideCoverage => $"not in experiment: outside its coverage of {assignment.Rule.Coverage.ToString(CultureInfo.InvariantCulture)} ({how})",
                _ => $"not in experiment: outside its share [{assignment.Rule.Namespace!.Start.ToString(CultureInfo.InvariantCulture)}, {assignment.Rule.Namespace.End.ToString(CultureInfo.InvariantCulture)}) of namespace `{assignment.Rule.Namespace.Name}` " +
                     $"(position {assignment.Rule.Namespace.Position(unit).ToString("0.###", CultureInfo.InvariantCulture)})",
            });
            return ExitCodes.Success;
        });
        return command;
    }
}
