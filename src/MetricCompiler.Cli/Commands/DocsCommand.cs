using System.CommandLine;
using System.Net.Sockets;
using MetricCompiler.Adapters;
using MetricCompiler.Core.Diagnostics;
using MetricCompiler.Execution.Artifacts;
using MetricCompiler.Execution.Docs;
using MetricCompiler.Execution.Running;

namespace MetricCompiler.Cli.Commands;

/// <summary><c>metricc docs generate</c> (the static site under <c>target/docs</c>) and <c>metricc docs serve</c>.</summary>
internal static class DocsCommand
{
    public static Command Create(CommandContext context)
    {
        var command = new Command("docs", "The project's docs site: metric catalog, dimensions, sources, tables, experiments with readouts, lineage graph, search.");
        command.Subcommands.Add(Generate(context));
        command.Subcommands.Add(Serve(context));
        return command;
    }

    private static Option<string?> Output() => new("--output", "-o") { Description = "Folder of the site (default: target/docs under the project)" };

    private static Command Generate(CommandContext context)
    {
        var output = Output();
        var command = new Command("generate", "Write the static docs site (default target/docs); it works from the file system, no server needed.")
        {
            ProjectCommands.ProjectDir, ProjectCommands.Target, output,
        };
        command.SetAction(parse =>
        {
            DocsProject docs;
            try
            {
                docs = DocsProject.Compile(parse.GetValue(ProjectCommands.ProjectDir)!, parse.GetValue(ProjectCommands.Target));
            }
            catch (CompilationException e)
            {
                ProjectCommands.PrintDiagnostics(context, e.Diagnostics);
                return ExitCodes.Failure;
            }
            catch (TargetException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }

            ProjectCommands.PrintDiagnostics(context, docs.Diagnostics);
            var folder = parse.GetValue(output) ?? Path.Combine(docs.TargetDirectory, "docs");
            var files = DocsSite.Build(docs);
            try
            {
                DocsSite.Write(folder, files);
            }
            catch (DocsOutputException e)
            {
                context.Error.WriteLine($"error: --output: {e.Message}");
                return ExitCodes.Usage;
            }
            catch (ArtifactException e)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Failure;
            }

            var readouts = docs.Project.Experiments.Count(e => files.ContainsKey(DocsPaths.Readout(e.Id, "json")));
            context.Output.WriteLine($"wrote {files.Count} file(s) of the docs site into {folder}: {docs.Project.Metrics.Count} metric(s), {docs.Plan.Nodes.Count} table(s), " +
                $"{docs.Project.Experiments.Count} experiment(s) ({readouts} with a readout)");
            context.Output.WriteLine($"open {new Uri(Path.GetFullPath(Path.Combine(folder, DocsPaths.Index))).AbsoluteUri}, or run `metricc docs serve`");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Serve(CommandContext context)
    {
        var output = Output();
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1 (0: any free port)", DefaultValueFactory = _ => 8080 };
        var command = new Command("serve", "Serve the generated docs site on 127.0.0.1 until Ctrl-C.") { ProjectCommands.ProjectDir, output, port };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(output) ?? Path.Combine(parse.GetValue(ProjectCommands.ProjectDir)!, "target", "docs");
            var number = parse.GetValue(port);
            if (number is < 0 or > 65535)
            {
                context.Error.WriteLine($"error: --port {number}: give 0 (any free port) to 65535");
                return ExitCodes.Usage;
            }

            if (!File.Exists(Path.Combine(folder, DocsPaths.Index)))
            {
                context.Error.WriteLine($"error: no docs site in {folder}; run `metricc docs generate` first");
                return ExitCodes.Failure;
            }

            using var stopped = new ManualResetEventSlim();
            // Ctrl-C (SIGINT) and SIGTERM stop serving and exit normally; registered directly, so that a SIGINT a
            // parent shell set to be ignored (a background job) is still heard.
            void Stop(System.Runtime.InteropServices.PosixSignalContext signal)
            {
                signal.Cancel = true;
                stopped.Set();
            }

            using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
            using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
            DocsServer server;
            try
            {
                server = DocsServer.Start(folder, number);
            }
            catch (SocketException e)
            {
                context.Error.WriteLine($"error: cannot listen on 127.0.0.1:{number}: {e.Message}; pick another --port (0 picks a free one)");
                return ExitCodes.Failure;
            }

            context.Output.WriteLine($"serving {Path.GetFullPath(folder)} at {server.Url} (Ctrl-C stops)");
            context.Output.Flush();
            stopped.Wait();
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            context.Output.WriteLine("stopped");
            return ExitCodes.Success;
        });
        return command;
    }
}
