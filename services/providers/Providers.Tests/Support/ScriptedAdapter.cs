using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using StitchFin.Providers.Upstreams;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Providers.Tests.Support;

/// <summary>One step of a scripted upstream: what one attempt does.</summary>
public delegate Task<AttemptResult> UpstreamScriptStep(Target target, IContentSink sink, CancellationToken cancellationToken);

/// <summary>Scripted upstreams, one per provider name, standing in for the HTTP adapter.</summary>
public sealed class ScriptedAdapter(FakeTimeProvider time) : IProviderAdapter
{
    private readonly ConcurrentDictionary<string, ScriptedUpstream> _upstreams = new();

    public ScriptedUpstream For(string provider) => _upstreams.GetOrAdd(provider, name => new ScriptedUpstream(name, time));

    public Task<AttemptResult> SendAsync(Target target, NormalizedRequest request, IContentSink sink, AttemptLimits limits, CancellationToken cancellationToken) =>
        For(target.Provider.Name).SendAsync(target, sink, cancellationToken);
}

/// <summary>Plays a script of replies, then repeats its last step, noting when each call started.</summary>
public sealed class ScriptedUpstream(string name, FakeTimeProvider time)
{
    private readonly Queue<UpstreamScriptStep> _script = new();
    private readonly Lock _lock = new();
    private UpstreamScriptStep? _last;

    public List<DateTimeOffset> Calls { get; } = [];

    public ScriptedUpstream Then(params UpstreamScriptStep[] steps)
    {
        foreach (var step in steps)
        {
            _script.Enqueue(step);
        }

        return this;
    }

    public UpstreamScriptStep Ok(int tokensOut = 42, string? text = null) => async (target, sink, _) =>
    {
        foreach (var word in ContentDeltas.Split(text ?? $"[{name}] hello there ..."))
        {
            await sink.OnContentAsync(target.Model, word);
        }

        return AttemptResult.Success(200, new UpstreamReply(target.Model, "stop", new ChatUsage(5, tokensOut)));
    };

    /// <summary>A reply without usage: the engine must count it itself.</summary>
    public UpstreamScriptStep OkWithoutUsage(string text) => async (target, sink, _) =>
    {
        await sink.OnContentAsync(target.Model, text);
        return AttemptResult.Success(200, new UpstreamReply(target.Model, "stop", null));
    };

    /// <summary>Streams some words, then the connection breaks.</summary>
    public static UpstreamScriptStep CutAfter(params string[] words) => async (target, sink, _) =>
    {
        foreach (var word in words)
        {
            await sink.OnContentAsync(target.Model, word);
        }

        return AttemptResult.Fault(200, Contracts.Providers.AttemptReasons.StreamCut);
    };

    public static UpstreamScriptStep Status(int status, string? code = null) => (_, _, _) =>
        Task.FromResult(UpstreamAdapter.Classify(status, code is null ? null : new ChatError("refused", "invalid_request_error", code, null), null));

    public static UpstreamScriptStep RateLimited(int retryAfterMs) => (_, _, _) =>
        Task.FromResult(AttemptResult.RateLimited(429, TimeSpan.FromMilliseconds(retryAfterMs), null));

    /// <summary>An attempt that answers only after <paramref name="milliseconds"/> of (fake) time, unless cancelled first.</summary>
    public UpstreamScriptStep Slow(int milliseconds) => async (target, sink, ct) =>
    {
        await Task.Delay(TimeSpan.FromMilliseconds(milliseconds), time, ct);
        return await Ok()(target, sink, ct);
    };

    public Task<AttemptResult> SendAsync(Target target, IContentSink sink, CancellationToken cancellationToken)
    {
        UpstreamScriptStep step;
        lock (_lock)
        {
            Calls.Add(time.GetUtcNow());
            if (_script.TryDequeue(out var next))
            {
                _last = next;
            }

            step = _last ?? throw new InvalidOperationException($"{name} has no script.");
        }

        return step(target, sink, cancellationToken);
    }
}
