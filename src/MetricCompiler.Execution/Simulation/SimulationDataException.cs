namespace MetricCompiler.Execution.Simulation;

/// <summary>The per-unit data a simulation needs is missing or unusable (exit code 1, with advice in the message).</summary>
public sealed class SimulationDataException(string message, Exception? inner = null) : Exception(message, inner);
