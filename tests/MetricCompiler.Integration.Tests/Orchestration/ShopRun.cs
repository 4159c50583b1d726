using MetricCompiler.Cli.Commands;

namespace MetricCompiler.Integration.Tests.Orchestration;

/// <summary>The small SQLite shop project with four units, and the command line run in-process against it.</summary>
internal static class ShopRun
{
    public static void SeedRawTables(WarehouseProject project) => project.Execute("""
        create table raw_exposures (user_id text, experiment_id text, variant text, exposed_at text);
        insert into raw_exposures values ('u1','checkout','control','2026-01-06 10:00:00'), ('u2','checkout','treatment','2026-01-06 11:00:00'),
                                         ('u3','checkout','control','2026-01-07 10:00:00'), ('u4','checkout','treatment','2026-01-07 11:00:00');
        create table raw_events (event_id text, user_id text, event_type text, occurred_at text, revenue real, load_ms real);
        insert into raw_events values ('e1','u1','purchase','2026-01-08 10:00:00', 10, null), ('e2','u2','purchase','2026-01-08 10:00:00', 20, null),
                                      ('e3','u3','page_view','2026-01-08 10:00:00', null, 700), ('e4','u4','purchase','2026-01-09 10:00:00', 15, null);
        """);

    public static (int Exit, string Out, string Err) Cli(Func<Spectre.Console.IAnsiConsole>? terminal, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CommandLine.Run(args, output, error, terminal);
        return (exit, output.ToString(), error.ToString());
    }

    public static (int Exit, string Out, string Err) Cli(params string[] args) => Cli(null, args);

    public static string Target(WarehouseProject project, params string[] parts) => Path.Combine([project.Root, "target", .. parts]);
}
