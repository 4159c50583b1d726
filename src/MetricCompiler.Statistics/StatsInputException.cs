namespace MetricCompiler.Statistics;

/// <summary>
/// Bad input to <see cref="StatsJson"/>. The message starts with the JSON path of the offending value,
/// e.g. "metrics[2].variants.treatment.n: expected a number".
/// </summary>
public sealed class StatsInputException : Exception
{
    /// <summary>Creates the exception with a path and what is wrong there.</summary>
    public StatsInputException(string path, string problem)
        : base($"{path}: {problem}")
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>Creates the exception from a complete message (path "(root)").</summary>
    public StatsInputException(string message)
        : base(message)
    {
        Path = "(root)";
        Problem = message;
    }

    /// <summary>Creates the exception from a complete message and an inner exception.</summary>
    public StatsInputException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = "(root)";
        Problem = message;
    }

    /// <summary>Creates an empty exception.</summary>
    public StatsInputException()
        : this("invalid statistics input")
    {
    }

    /// <summary>The JSON path of the offending value ("(root)" for the document itself).</summary>
    public string Path { get; }

    /// <summary>What is wrong at <see cref="Path"/>.</summary>
    public string Problem { get; }
}
