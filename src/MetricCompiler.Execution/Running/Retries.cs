using MetricCompiler.Adapters;
using Polly;
using Polly.Retry;

namespace MetricCompiler.Execution.Running;

/// <summary>
/// Retries a node build or a data test after a transient warehouse error (<see cref="TransientFailures"/>): at most
/// <see cref="MaxTries"/> tries in all, 200 ms then 400 ms apart (with jitter). Building a node is idempotent (its build
/// table is dropped and created again), so a retry cannot leave half a table behind.
/// </summary>
public static class Retries
{
    public const int MaxTries = 3;

    internal static ResiliencePipeline Pipeline(Action<string> onRetry) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(TransientFailures.IsTransient),
            MaxRetryAttempts = MaxTries - 1,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(200),
            UseJitter = true,
            OnRetry = args =>
            {
                onRetry($"transient warehouse error ({args.Outcome.Exception?.Message}); try {args.AttemptNumber + 2} of {MaxTries} in {args.RetryDelay.TotalMilliseconds:N0} ms");
                return ValueTask.CompletedTask;
            },
        })
        .Build();
}
