using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.Http;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.ServiceDefaults.OpenAi;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Tests.Infrastructure;

/// <summary>
/// A real HTTP stand-in for the providers service (<c>POST /internal/completions</c>, whole or streamed, and
/// <c>GET /providers</c>) on a free loopback port. It counts calls, records what it was asked, and answers whatever
/// <see cref="Behaviour"/> says.
/// </summary>
public sealed class FakeProviders : IAsyncDisposable
{
    public const int DefaultTokensOut = 42;

    /// <summary>The simulated vendors, as the real catalogue lists them, and one openai-compatible provider with two models.</summary>
    public static readonly ProviderInfo[] DefaultCatalog =
    [
        new(ProviderNames.VendorA, ProviderKinds.Simulated, 0.0030m, 0.0060m, ["vendor-a"], "vendor-a"),
        new(ProviderNames.VendorB, ProviderKinds.Simulated, 0.0020m, 0.0040m, ["vendor-b"], "vendor-b"),
        new("Local", ProviderKinds.OpenAiCompatible, 0.0010m, 0.0020m, [], null),
    ];

    private readonly WebApplication _app;
    private int _calls;

    private FakeProviders(WebApplication app) => _app = app;

    public string BaseAddress { get; private set; } = "";

    public int Calls => Volatile.Read(ref _calls);

    public ConcurrentQueue<CompletionRequest> Requests { get; } = new();

    public ConcurrentQueue<string?> IdentityHeaders { get; } = new();

    /// <summary>The declared length of each completion request's body (null: sent without one).</summary>
    public ConcurrentQueue<long?> ContentLengths { get; } = new();

    public Func<CompletionRequest, HttpContext, Task<IResult>> Behaviour { get; set; } = Succeed;

    /// <summary>What <c>GET /providers</c> answers; null makes it answer 503.</summary>
    public ProviderInfo[]? Catalog { get; set; } = DefaultCatalog;

    public static async Task<FakeProviders> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "FakeProviders" });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeProviders(app);
        app.MapPost("/internal/completions", async (CompletionRequest request, HttpContext context) =>
        {
            Interlocked.Increment(ref fake._calls);
            fake.Requests.Enqueue(request);
            fake.IdentityHeaders.Enqueue(context.Request.Headers[InternalIdentitySigner.HeaderName].ToString());
            fake.ContentLengths.Enqueue(context.Request.ContentLength);
            return await fake.Behaviour(request, context);
        });
        app.MapGet("/providers", () => fake.Catalog is { } catalog ? Results.Json(catalog, JsonDefaults.JsonOptions) : Results.StatusCode(503));
        app.Urls.Clear();
        app.Urls.Add("http://127.0.0.1:0");
        await app.StartAsync();
        fake.BaseAddress = app.Urls.Single();
        return fake;
    }

    public void Reset(Func<CompletionRequest, HttpContext, Task<IResult>>? behaviour = null)
    {
        Behaviour = behaviour ?? Succeed;
        Catalog = DefaultCatalog;
        Volatile.Write(ref _calls, 0);
        Requests.Clear();
        IdentityHeaders.Clear();
        ContentLengths.Clear();
    }

    /// <summary>Answers like the simulated vendors: the primary succeeds at once, as a stream when one is asked for.</summary>
    public static Task<IResult> Succeed(CompletionRequest request, HttpContext context) =>
        Task.FromResult(WantsStream(context) ? Stream(Result(request)) : TypedResults.Ok(Result(request)));

    public static bool WantsStream(HttpContext context) => context.Request.Headers.Accept.ToString().Contains(EventStream.ContentType, StringComparison.Ordinal);

    /// <summary>A reply that calls tools instead of (or after) answering.</summary>
    public static CompletionResult ToolCallResult(CompletionRequest request, params ToolCall[] calls) =>
        Result(request) with { Text = "", FinishReason = "tool_calls", ToolCalls = calls };

    public static CompletionResult Result(CompletionRequest request, int tokensOut = DefaultTokensOut)
    {
        var provider = DefaultCatalog.Single(p => p.Name == request.PrimaryProvider);
        var tokensIn = TokensIn(request);
        return new CompletionResult(
            request.PrimaryProvider,
            request.PrimaryModel ?? provider.DefaultModel!,
            false,
            $"[{request.PrimaryProvider}] {request.UserContent[..Math.Min(60, request.UserContent.Length)]} ...",
            tokensIn,
            tokensOut,
            false,
            Cost(provider, tokensIn, tokensOut),
            "stop",
            120,
            [new ProviderAttempt(request.PrimaryProvider, AttemptOutcomes.Ok, 200, 120, request.PrimaryModel ?? provider.DefaultModel)]);
    }

    /// <summary>The documented formula, written out independently of the providers service.</summary>
    public static decimal Cost(ProviderInfo provider, int tokensIn, int tokensOut) =>
        Math.Round(tokensIn / 1000m * provider.InputPer1KTokens + tokensOut / 1000m * provider.OutputPer1KTokens, 6, MidpointRounding.AwayFromZero);

    public static int TokensIn(CompletionRequest request) =>
        Math.Max(1, (int)Math.Ceiling($"SYSTEM: {request.SystemPrompt}\nUSER: {request.UserContent}".Length / 4.0));

    /// <summary>What providers answers when every attempt on every vendor failed.</summary>
    public static Func<CompletionRequest, HttpContext, Task<IResult>> FailEveryAttempt(IReadOnlyList<ProviderAttempt> attempts) =>
        (_, _) => Task.FromResult<IResult>(TypedResults.Problem(
            "Every provider attempt failed.",
            statusCode: StatusCodes.Status502BadGateway,
            title: "All providers failed",
            extensions: new Dictionary<string, object?> { ["attempts"] = attempts, ["reason"] = CompletionFailureReasons.Exhausted }));

    /// <summary>What providers answers when the upstream refused the request itself.</summary>
    public static Func<CompletionRequest, HttpContext, Task<IResult>> Reject(int upstreamStatus, UpstreamError error) =>
        (request, _) => Task.FromResult<IResult>(TypedResults.Problem(
            "The provider refused the request.",
            statusCode: StatusCodes.Status502BadGateway,
            title: "The provider refused the request",
            extensions: new Dictionary<string, object?>
            {
                ["attempts"] = new[] { new ProviderAttempt(request.PrimaryProvider, AttemptOutcomes.Error, upstreamStatus, 5, "m", AttemptReasons.Rejected) },
                ["reason"] = CompletionFailureReasons.Rejected,
                ["upstreamStatus"] = upstreamStatus,
                ["upstreamError"] = error,
            }));

    /// <summary>A stream of the result's words; <paramref name="beforeDelta"/> may hold delta i until the test allows it.</summary>
    public static IResult Stream(CompletionResult result, Func<int, Task>? beforeDelta = null) =>
        new StreamedCompletion(result, ContentDeltas.Split(result.Text).ToList(), null, beforeDelta);

    /// <summary>A stream that sends some words and then fails, as providers does once a stream has begun.</summary>
    public static IResult StreamThenFail(CompletionRequest request, params string[] words) =>
        new StreamedCompletion(Result(request), words, new CompletionFailed(
            "The stream was cut.", [new ProviderAttempt(request.PrimaryProvider, AttemptOutcomes.Error, 200, 10, "m", AttemptReasons.StreamCut)],
            CompletionFailureReasons.StreamFailed), null);

    /// <summary>A stream that sends some words and then ends without an ending event, as a providers service that died would.</summary>
    public static IResult StreamThenEnd(CompletionRequest request, params string[] words) =>
        new StreamedCompletion(Result(request), words, null, null, endEarly: true);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class StreamedCompletion(
        CompletionResult result, IReadOnlyList<string> deltas, CompletionFailed? failure, Func<int, Task>? beforeDelta, bool endEarly = false) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var events = new EventStream(httpContext.Response);
            await events.WriteAsync(CompletionStreamEvents.Start, Json(new StreamStart(result.Provider, result.Model, result.FallbackUsed)));
            for (var i = 0; i < deltas.Count; i++)
            {
                if (beforeDelta is not null)
                {
                    await beforeDelta(i);
                }

                await events.WriteAsync(CompletionStreamEvents.Delta, Json(new StreamDelta(deltas[i])));
            }

            if (endEarly)
            {
                return;
            }

            await (failure is null
                ? events.WriteAsync(CompletionStreamEvents.Completed, Json(result))
                : events.WriteAsync(CompletionStreamEvents.Failed, Json(failure)));
        }

        private static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, JsonDefaults.JsonOptions);
    }
}
