using MetricCompiler.Core.Loading;

namespace MetricCompiler.Compiler.Tests.Support;

/// <summary>A throwaway project folder with the files a test writes into it.</summary>
public sealed class TempProject : IDisposable
{
    public TempProject(params (string Path, string Content)[] files)
    {
        Root = Path.Combine(Path.GetTempPath(), "metricc-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        foreach (var (path, content) in files)
            Write(path, content);
    }

    public string Root { get; }

    public void Write(string path, string content)
    {
        var full = Path.Combine(Root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content.Replace("\r\n", "\n"));
    }

    public LoadResult Load() => ProjectLoader.Load(Root);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The folder holding MetricCompiler.sln.</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MetricCompiler.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("MetricCompiler.sln not found above the test folder");
    }
}

/// <summary>A small valid project; tests break one thing in it at a time.</summary>
public static class Fixtures
{
    public const string Project = """
        version: 1
        name: shop
        sources:
          - name: events
            table: raw_events
            entity: user_id
            event_time: occurred_at
            unique_key: event_id
            columns:
              - {name: event_id, type: string}
              - {name: user_id, type: string}
              - {name: event_type, type: string}
              - {name: occurred_at, type: timestamp}
              - {name: revenue, type: number}
          - name: exposures
            table: raw_exposures
            entity: user_id
            event_time: exposed_at
            columns:
              - {name: user_id, type: string}
              - {name: experiment_id, type: string}
              - {name: variant, type: string}
              - {name: exposed_at, type: timestamp}
        metrics:
          - name: revenue
            source: events
            agg: sum
            expr: revenue
            filter: event_type = 'purchase'
          - name: purchases
            source: events
            agg: count
            filter: event_type = 'purchase'
          - name: purchased
            source: events
            agg: proportion
            filter: event_type = 'purchase'
          - name: order_value
            agg: ratio
            numerator: revenue
            denominator: purchases
        experiments:
          - id: checkout
            exposure:
              source: exposures
              filter: experiment_id = 'checkout'
            variants:
              - {name: control, weight: 0.5, control: true}
              - {name: treatment, weight: 0.5}
            start: 2026-01-05
            end: 2026-01-18
            metrics:
              primary: [purchased]
              secondary: [revenue, order_value]
              guardrails:
                - {metric: purchases, harmful_direction: decrease, margin: 0.1}
        """;
}
