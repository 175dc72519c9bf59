using Microsoft.Extensions.Time.Testing;
using StitchFin.Providers.Adapters;

namespace StitchFin.Providers.Tests.Support;

/// <summary>An adapter that plays a script of replies, then repeats its last step, noting when each call started.</summary>
public sealed class ScriptedAdapter(string name, FakeTimeProvider time) : IProviderAdapter
{
    private readonly Queue<Func<CancellationToken, Task<ProviderCallResult>>> _script = new();
    private Func<CancellationToken, Task<ProviderCallResult>>? _last;
    private readonly Lock _lock = new();

    public string Name => name;

    public List<DateTimeOffset> Calls { get; } = [];

    public ScriptedAdapter Then(params Func<CancellationToken, Task<ProviderCallResult>>[] steps)
    {
        foreach (var step in steps)
        {
            _script.Enqueue(step);
        }

        return this;
    }

    public Func<CancellationToken, Task<ProviderCallResult>> Ok(int tokensOut = 42) =>
        _ => Task.FromResult(ProviderCallResult.Success(new NormalizedResponse(name, $"[{name}] hello ...", 5, tokensOut, 80), 200));

    public static Func<CancellationToken, Task<ProviderCallResult>> Status(int status) =>
        _ => Task.FromResult(ProviderCallResult.Error(status));

    public static Func<CancellationToken, Task<ProviderCallResult>> RateLimited(int retryAfterMs) =>
        _ => Task.FromResult(ProviderCallResult.RateLimited(429, TimeSpan.FromMilliseconds(retryAfterMs)));

    /// <summary>A call that answers only after <paramref name="milliseconds"/> of (fake) time, unless cancelled first.</summary>
    public Func<CancellationToken, Task<ProviderCallResult>> Slow(int milliseconds) => async ct =>
    {
        await Task.Delay(TimeSpan.FromMilliseconds(milliseconds), time, ct);
        return ProviderCallResult.Success(new NormalizedResponse(name, "late", 5, 40, milliseconds), 200);
    };

    public Task<ProviderCallResult> CompleteAsync(NormalizedRequest request, CancellationToken cancellationToken)
    {
        Func<CancellationToken, Task<ProviderCallResult>> step;
        lock (_lock)
        {
            Calls.Add(time.GetUtcNow());
            if (_script.TryDequeue(out var next))
            {
                _last = next;
            }

            step = _last ?? throw new InvalidOperationException($"{name} has no script.");
        }

        return step(cancellationToken);
    }
}
