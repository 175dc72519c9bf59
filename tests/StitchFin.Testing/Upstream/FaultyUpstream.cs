using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace StitchFin.Testing.Upstream;

/// <summary>
/// A real HTTP/1.1 server on a free loopback port that answers OpenAI's <c>POST /v1/chat/completions</c>, OpenAI's
/// Responses API (<c>POST /v1/responses</c>) and Anthropic's Messages API (<c>POST /v1/messages</c>) by a per-model
/// script of <see cref="UpstreamStep"/>s, faults included (resets, stalls, cut streams, 429s), each in the wire
/// format of the API it was asked in, so a client's resilience is tested against what a provider (OpenAI, Anthropic,
/// vLLM, Ollama) really does on the wire.
/// </summary>
public sealed class FaultyUpstream : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<UpstreamRequest> _requests = [];
    private readonly Dictionary<string, List<UpstreamRequest>> _requestsByModel = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UpstreamScript> _scripts = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly string? _apiKey;
    private TaskCompletionSource _arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _app;
    private int _disposed;

    private FaultyUpstream(string? apiKey) => _apiKey = apiKey;

    /// <summary>
    /// <c>http://127.0.0.1:PORT/v1/</c>; chat completions are at <c>{BaseUrl}chat/completions</c>, responses at
    /// <c>{BaseUrl}responses</c>, messages at <c>{BaseUrl}messages</c>.
    /// </summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<UpstreamRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>
    /// Starts on a free loopback port. With <paramref name="apiKey"/>, requests must carry it as their API expects:
    /// <c>Authorization: Bearer {apiKey}</c>, or <c>x-api-key</c> for Anthropic's.
    /// </summary>
    public static async Task<FaultyUpstream> StartAsync(string? apiKey = null)
    {
        var upstream = new FaultyUpstream(apiKey);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http1);
        });
        // A flush returns only once the socket has taken the bytes (Kestrel's output pipe pauses the writer at 2 unsent
        // bytes and resumes it at 0), so a fault that drops the connection right after a flush never loses what was flushed:
        // with the default 64 KiB buffer, an abort raced the socket and the client sometimes saw nothing at all.
        builder.WebHost.UseSockets(sockets => sockets.MaxWriteBufferSize = 2);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(upstream.HandleAsync);
        await app.StartAsync();
        upstream._app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        upstream.BaseUrl = new Uri(new Uri(address), "/v1/");
        return upstream;
    }

    /// <summary>
    /// The n-th request for <paramref name="model"/> plays <c>steps[n]</c>; the last step repeats. Scripting a model
    /// again replaces its script and starts counting afresh. Requests rejected before the script (401, 400) play no step.
    /// </summary>
    public void Script(string model, params UpstreamStep[] steps)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Length == 0 || Array.Exists(steps, step => step is null))
        {
            throw new ArgumentException("A script needs at least one step, and no null steps.", nameof(steps));
        }

        lock (_lock)
        {
            _scripts[model] = new UpstreamScript([.. steps]);
        }
    }

    /// <summary>The requests seen for <paramref name="model"/>, in arrival order.</summary>
    public IReadOnlyList<UpstreamRequest> RequestsFor(string model)
    {
        lock (_lock)
        {
            return _requestsByModel.TryGetValue(model, out var seen) ? [.. seen] : [];
        }
    }

    /// <summary>
    /// Completes when <paramref name="count"/> requests for <paramref name="model"/> have arrived (not necessarily been
    /// answered: see <see cref="UpstreamRequest.Finished"/>); throws <see cref="TimeoutException"/> listing what arrived.
    /// </summary>
    public async Task<IReadOnlyList<UpstreamRequest>> WaitForRequestsAsync(string model, int count, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            Task arrival;
            lock (_lock)
            {
                var seen = _requestsByModel.GetValueOrDefault(model) ?? [];
                if (seen.Count >= count)
                {
                    return [.. seen];
                }

                arrival = _arrival.Task;
            }

            var remaining = timeout - Stopwatch.GetElapsedTime(started);
            try
            {
                await arrival.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
            }
            catch (TimeoutException)
            {
                var all = Requests;
                var forModel = all.Where(r => r.Model == model).ToList();
                throw new TimeoutException(
                    $"Waited {timeout.TotalMilliseconds:0} ms for {count} request(s) for model '{model}' and saw {forModel.Count}: " +
                    $"[{string.Join("; ", forModel)}]. All {all.Count} request(s): [{string.Join("; ", all)}]");
            }
        }
    }

    /// <summary>Stops the server; requests still held (silent, stalled, slow) are dropped so shutdown is prompt.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_app is not null)
        {
            using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _app.StopAsync(shutdown.Token);
            }
            catch (OperationCanceledException)
            {
            }

            await _app.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        UpstreamRequest? request = null;
        var outcome = "error";
        try
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(aborted.Token);
            var dialect = HttpMethods.IsPost(context.Request.Method) ? UpstreamDialect.ForPath(context.Request.Path.Value) : null;
            var known = dialect is not null;
            dialect ??= UpstreamDialect.Chat;
            var parsed = dialect.Parse(body, context.Request.Headers);
            var authorized = _apiKey is null || dialect.Authorized(context.Request.Headers, _apiKey);

            UpstreamScript? script = null;
            UpstreamStep? step = null;
            lock (_lock)
            {
                if (!_requestsByModel.TryGetValue(parsed.Model, out var forModel))
                {
                    _requestsByModel[parsed.Model] = forModel = [];
                }

                request = new UpstreamRequest
                {
                    Method = context.Request.Method,
                    Path = context.Request.Path.Value ?? "",
                    Api = dialect.Api,
                    System = parsed.System,
                    Model = parsed.Model,
                    Stream = parsed.Stream,
                    IncludeUsage = parsed.IncludeUsage,
                    Messages = parsed.Messages,
                    Body = body,
                    Headers = context.Request.Headers.ToDictionary(
                        h => h.Key, h => string.Join(", ", (IEnumerable<string?>)h.Value), StringComparer.OrdinalIgnoreCase),
                    ReceivedAt = Stopwatch.GetTimestamp(),
                    Index = forModel.Count,
                };
                forModel.Add(request);
                _requests.Add(request);
                if (known && authorized && parsed.Error is null && _scripts.TryGetValue(parsed.Model, out script))
                {
                    step = script.Next();
                }

                _arrival.SetResult();
                _arrival = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            var exchange = new UpstreamExchange(context, request, dialect, script, parsed.PromptCharacters,
                () => _stopping.IsCancellationRequested, aborted.Token);
            if (!known)
            {
                await exchange.WriteErrorAsync(StatusCodes.Status404NotFound, $"Invalid URL ({context.Request.Method} {request.Path})",
                    "invalid_request_error", null, null);
                outcome = "not-found";
            }
            else if (!authorized)
            {
                await exchange.WriteErrorAsync(StatusCodes.Status401Unauthorized, dialect.Api == UpstreamApi.AnthropicMessages ? "invalid x-api-key" : "Incorrect API key provided.",
                    "invalid_request_error", null, "invalid_api_key");
                outcome = "unauthorized";
            }
            else if (parsed.Error is not null)
            {
                await exchange.WriteErrorAsync(StatusCodes.Status400BadRequest, parsed.Error,
                    "invalid_request_error", parsed.ErrorParam, "invalid_request_error");
                outcome = "bad-request";
            }
            else if (step is null)
            {
                await exchange.WriteErrorAsync(StatusCodes.Status404NotFound, $"The model '{parsed.Model}' does not exist",
                    "invalid_request_error", "model", "model_not_found");
                outcome = "model-not-found";
            }
            else
            {
                outcome = await step.Play(exchange);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            outcome = _stopping.IsCancellationRequested ? "disposed" : "client-gone";
            context.Abort();
        }
        catch (Exception ex)
        {
            outcome = $"error: {ex.GetType().Name}: {ex.Message}";
            context.Abort();
        }
        finally
        {
            request?.Finish(outcome);
        }
    }
}

/// <summary>One model's steps, how many requests have played them, and when each timed step first played.</summary>
internal sealed class UpstreamScript(UpstreamStep[] steps)
{
    private readonly ConcurrentDictionary<object, long> _firstPlayed = new();
    private int _played;

    /// <summary>The step for the next request (the last step repeats). Called under the upstream's lock.</summary>
    public UpstreamStep Next() => steps[Math.Min(_played++, steps.Length - 1)];

    public long FirstPlayed(object key) => _firstPlayed.GetOrAdd(key, _ => Stopwatch.GetTimestamp());
}
