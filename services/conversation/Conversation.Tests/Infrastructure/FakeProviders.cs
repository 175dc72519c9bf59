using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Conversation.Tests.Infrastructure;

/// <summary>
/// A real HTTP stand-in for the providers service's <c>POST /internal/completions</c>, on a free loopback port.
/// It counts calls, records what it was asked, and answers whatever <see cref="Behaviour"/> says.
/// </summary>
public sealed class FakeProviders : IAsyncDisposable
{
    public const int DefaultTokensOut = 42;

    private readonly WebApplication _app;
    private int _calls;

    private FakeProviders(WebApplication app) => _app = app;

    public string BaseAddress { get; private set; } = "";

    public int Calls => Volatile.Read(ref _calls);

    public ConcurrentQueue<CompletionRequest> Requests { get; } = new();

    public ConcurrentQueue<string?> IdentityHeaders { get; } = new();

    public Func<CompletionRequest, HttpContext, Task<IResult>> Behaviour { get; set; } = Succeed;

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
            return await fake.Behaviour(request, context);
        });
        app.Urls.Clear();
        app.Urls.Add("http://127.0.0.1:0");
        await app.StartAsync();
        fake.BaseAddress = app.Urls.Single();
        return fake;
    }

    public void Reset(Func<CompletionRequest, HttpContext, Task<IResult>>? behaviour = null)
    {
        Behaviour = behaviour ?? Succeed;
        Volatile.Write(ref _calls, 0);
        Requests.Clear();
        IdentityHeaders.Clear();
    }

    /// <summary>Answers like the simulated vendors: the primary succeeds at once.</summary>
    public static Task<IResult> Succeed(CompletionRequest request, HttpContext context) =>
        Task.FromResult<IResult>(TypedResults.Ok(Result(request)));

    public static CompletionResult Result(CompletionRequest request, int tokensOut = DefaultTokensOut) =>
        new(
            request.PrimaryProvider,
            false,
            $"[{request.PrimaryProvider}] {request.UserContent[..Math.Min(60, request.UserContent.Length)]} ...",
            TokensIn(request),
            tokensOut,
            120,
            [new ProviderAttempt(request.PrimaryProvider, AttemptOutcomes.Ok, 200, 120)]);

    public static int TokensIn(CompletionRequest request) =>
        Math.Max(1, (int)Math.Ceiling($"SYSTEM: {request.SystemPrompt}\nUSER: {request.UserContent}".Length / 4.0));

    /// <summary>What providers answers when every attempt on every vendor failed.</summary>
    public static Func<CompletionRequest, HttpContext, Task<IResult>> FailEveryAttempt(IReadOnlyList<ProviderAttempt> attempts) =>
        (_, _) => Task.FromResult<IResult>(TypedResults.Problem(
            "Every provider attempt failed.",
            statusCode: StatusCodes.Status502BadGateway,
            title: "All providers failed",
            extensions: new Dictionary<string, object?> { ["attempts"] = attempts }));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
