using System.Diagnostics;
using MetricCompiler.Execution.Running;
using MetricCompiler.Planning;
using Spectre.Console;

namespace MetricCompiler.Cli.Output;

/// <summary>
/// The live display of a run on a terminal (Spectre.Console): one frame, redrawn as nodes start and finish and four
/// times a second for the clock, showing nodes done out of the total, the running nodes and the elapsed time. The last
/// frame stays on screen; the readouts and the summary follow as plain text.
/// </summary>
public sealed class LiveRunReport(string command, IAnsiConsole console, TextWriter output, TextWriter error) : RunReport(output, error)
{
    private readonly ProgressState _state = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _drawing = new();
    private LiveDisplayContext? _live;

    public ProgressState State => _state;

    public override void RunStarted(int total, string target, string adapter)
    {
        _state.Started(total, target);
        Redraw();
    }

    public override void NodeStarted(int index, int total, PlanNode node)
    {
        _state.NodeStarted(total, node, _clock.Elapsed);
        Redraw();
    }

    public override void NodeFinished(int index, int total, PlanNode node, NodeResult result)
    {
        _state.NodeFinished(total, node, result);
        Redraw();
    }

    public override void TestFinished(PlannedTest test, NodeResult result)
    {
        _state.TestFinished(test, result);
        Redraw();
    }

    public override void Info(string message)
    {
        _state.Note(message);
        Redraw();
    }

    public override void Seeding(string message) => console.WriteLine(message);

    public override T Track<T>(Func<T> run)
    {
        var result = default(T)!;
        console.Live(ProgressView.Render(command, _state.Snapshot(), _clock.Elapsed))
            .AutoClear(false)
            .Overflow(VerticalOverflow.Ellipsis)
            .Start(context =>
            {
                lock (_drawing)
                    _live = context;
                using (new Timer(_ => Redraw(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250)))
                {
                    try
                    {
                        result = run();
                    }
                    finally
                    {
                        _state.Finish();
                        Redraw();
                        lock (_drawing)
                            _live = null;
                    }
                }
            });
        return result;
    }

    public override int Finish(int exitCode, RunOutcome? outcome) => TextRunReport.Complete(Output, Error, exitCode, outcome, quiet: false);

    private void Redraw()
    {
        lock (_drawing)
            _live?.UpdateTarget(ProgressView.Render(command, _state.Snapshot(), _clock.Elapsed));
    }
}
