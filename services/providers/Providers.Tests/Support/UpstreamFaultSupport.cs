using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Completions;
using StitchFin.ServiceDefaults.Http;
using StitchFin.Testing.Upstream;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Providers.Tests.Support;

/// <summary>
/// The providers service in memory with one <c>openai-compatible</c> provider <c>Up</c> on a real
/// <see cref="FaultyUpstream"/> over loopback, providers of the native kinds on the same upstream (<c>UpAnthropic</c>,
/// <c>UpResponses</c>, and the same for whole replies), and providers <c>Moved302</c> and <c>Moved307</c> on a
/// <see cref="RedirectingUpstream"/> that points every request at that same upstream.
/// </summary>
public sealed class UpstreamService : IAsyncDisposable
{
    public const string Provider = "Up";

    /// <summary>The same upstream as a provider configured for whole replies (<c>Streaming: false</c>).</summary>
    public const string WholeProvider = "Whole";

    /// <summary>The same upstream spoken to in Anthropic's Messages API (kind <c>anthropic</c>), streamed and whole.</summary>
    public const string AnthropicProvider = "UpAnthropic";
    public const string AnthropicWholeProvider = "UpAnthropicWhole";

    /// <summary>What <see cref="AnthropicProvider"/> sends as <c>max_tokens</c> when a request names no limit.</summary>
    public const int AnthropicDefaultMaxTokens = 1024;

    /// <summary>The same upstream spoken to in OpenAI's Responses API (kind <c>openai-responses</c>), streamed and whole.</summary>
    public const string ResponsesProvider = "UpResponses";
    public const string ResponsesWholeProvider = "UpResponsesWhole";
    public const string ApiKey = "sk-test-6f1e2d3c4b5a";
    public const decimal InputPer1K = 0.001m;
    public const decimal OutputPer1K = 0.002m;

    private UpstreamService(FaultyUpstream upstream, RedirectingUpstream redirector, ProvidersFactory factory)
    {
        Upstream = upstream;
        Redirector = redirector;
        Factory = factory;
        Client = factory.CreateClientFor(Guid.NewGuid());
    }

    public FaultyUpstream Upstream { get; }

    public RedirectingUpstream Redirector { get; }

    public ProvidersFactory Factory { get; }

    public HttpClient Client { get; }

    /// <summary>Starts the upstreams and the service; <paramref name="resilience"/> overrides the default <c>Resilience</c> values.</summary>
    public static async Task<UpstreamService> StartAsync(IReadOnlyDictionary<string, string>? resilience = null)
    {
        var upstream = await FaultyUpstream.StartAsync(ApiKey);
        var redirector = await RedirectingUpstream.StartAsync(new Uri(upstream.BaseUrl, "chat/completions"));
        var settings = new Dictionary<string, string?>
        {
            [$"Providers:{Provider}:Headers:X-Team"] = "gateway",
            [$"Providers:{WholeProvider}:Streaming"] = "false",
            ["Resilience:FirstTokenTimeoutMs"] = "1000",
            ["Resilience:IdleTimeoutMs"] = "1000",
            ["Resilience:RetryBaseDelayMs"] = "20",
            ["Resilience:RetryMaxDelayMs"] = "50",
            ["Resilience:MaxRetryAfterMs"] = "3000",
            ["Resilience:DeadlineMs"] = "20000",
            ["Resilience:BreakerMinimumThroughput"] = "1000",
            ["Resilience:JitterSeed"] = "17",
        };
        AddProvider(settings, Provider, upstream.BaseUrl);
        AddProvider(settings, WholeProvider, upstream.BaseUrl);
        foreach (var (name, kind, streaming) in new[]
        {
            (AnthropicProvider, ProviderKinds.Anthropic, true), (AnthropicWholeProvider, ProviderKinds.Anthropic, false),
            (ResponsesProvider, ProviderKinds.OpenAiResponses, true), (ResponsesWholeProvider, ProviderKinds.OpenAiResponses, false),
        })
        {
            AddProvider(settings, name, upstream.BaseUrl, kind);
            settings[$"Providers:{name}:Headers:X-Team"] = "gateway";
            settings[$"Providers:{name}:Streaming"] = streaming ? "true" : "false";
        }

        settings[$"Providers:{AnthropicProvider}:DefaultMaxTokens"] = AnthropicDefaultMaxTokens.ToString(CultureInfo.InvariantCulture);
        foreach (var status in RedirectingUpstream.Statuses)
        {
            AddProvider(settings, $"Moved{status}", redirector.BaseUrlFor(status));
        }

        foreach (var (key, value) in resilience ?? new Dictionary<string, string>())
        {
            settings[$"Resilience:{key}"] = value;
        }

        var factory = new ProvidersFactory(settings, realNetwork: true);
        return new UpstreamService(upstream, redirector, factory);
    }

    private static void AddProvider(Dictionary<string, string?> settings, string name, Uri baseUrl, string kind = ProviderKinds.OpenAiCompatible)
    {
        settings[$"Providers:{name}:Kind"] = kind;
        settings[$"Providers:{name}:BaseUrl"] = baseUrl.ToString();
        settings[$"Providers:{name}:ApiKey"] = ApiKey;
        settings[$"Providers:{name}:InputPer1KTokens"] = InputPer1K.ToString(CultureInfo.InvariantCulture);
        settings[$"Providers:{name}:OutputPer1KTokens"] = OutputPer1K.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A whole completion that must succeed.</summary>
    public async Task<CompletionResult> CompleteAsync(CompletionRequest request)
    {
        using var response = await Client.PostAsJsonAsync("/internal/completions", request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<CompletionResult>(body, JsonDefaults.JsonOptions)!;
    }

    /// <summary>A completion (whole, or streamed when <paramref name="stream"/>) that must fail with a 502 problem.</summary>
    public async Task<CompletionFailed> FailAsync(CompletionRequest request, bool stream = false)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/internal/completions") { Content = JsonContent.Create(request) };
        if (stream)
        {
            message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(EventStream.ContentType));
        }

        using var response = await Client.SendAsync(message);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadGateway, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonSerializer.Deserialize<CompletionFailed>(body, JsonDefaults.JsonOptions)!;
    }

    /// <summary>A streamed completion that must begin (200, <c>text/event-stream</c>); every event it sent.</summary>
    public async Task<StreamedCompletion> StreamAsync(CompletionRequest request)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/internal/completions") { Content = JsonContent.Create(request) };
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(EventStream.ContentType));
        using var response = await Client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            Assert.Fail($"Expected a stream, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Equal(EventStream.ContentType, response.Content.Headers.ContentType?.MediaType);
        var events = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync())
        {
            events.Add(item);
        }

        return new StreamedCompletion(events);
    }

    /// <summary>A request refused as invalid (400 validation problem); its body.</summary>
    public async Task<string> ValidationErrorsAsync(CompletionRequest request)
    {
        using var response = await Client.PostAsJsonAsync("/internal/completions", request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        return body;
    }

    public async Task<CircuitStatus[]> CircuitsAsync() =>
        (await Client.GetFromJsonAsync<CircuitStatus[]>("/internal/circuits", JsonDefaults.JsonOptions))!;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        await Redirector.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>What a streamed completion sent: its events in order, and each read as its contract type.</summary>
public sealed class StreamedCompletion(IReadOnlyList<SseItem<string>> events)
{
    public IReadOnlyList<SseItem<string>> Events => events;

    public IReadOnlyList<string> EventTypes { get; } = events.Select(e => e.EventType).ToArray();

    public StreamStart? Start => events.FirstOrDefault(e => e.EventType == CompletionStreamEvents.Start) is { Data: { } data }
        ? JsonSerializer.Deserialize<StreamStart>(data, JsonDefaults.JsonOptions) : null;

    public IReadOnlyList<string> Deltas => events.Where(e => e.EventType == CompletionStreamEvents.Delta)
        .Select(e => JsonSerializer.Deserialize<StreamDelta>(e.Data, JsonDefaults.JsonOptions)!.Text).ToArray();

    public CompletionResult? Completed => events.LastOrDefault(e => e.EventType == CompletionStreamEvents.Completed) is { Data: { } data }
        ? JsonSerializer.Deserialize<CompletionResult>(data, JsonDefaults.JsonOptions) : null;

    public CompletionFailed? Failed => events.LastOrDefault(e => e.EventType == CompletionStreamEvents.Failed) is { Data: { } data }
        ? JsonSerializer.Deserialize<CompletionFailed>(data, JsonDefaults.JsonOptions) : null;

    /// <summary>start, one delta per piece of text, then <paramref name="last"/>: the only shape a stream may have.</summary>
    public void AssertShape(int deltas, string last) =>
        Assert.Equal([CompletionStreamEvents.Start, .. Enumerable.Repeat(CompletionStreamEvents.Delta, deltas), last], EventTypes);
}

/// <summary>
/// An upstream that answers every request with a redirect (the status is the first path segment of its base URL) to
/// another address, and records what it was asked. <see cref="FaultyUpstream"/> cannot send a 3xx itself.
/// </summary>
public sealed class RedirectingUpstream : IAsyncDisposable
{
    public static readonly int[] Statuses = [StatusCodes.Status302Found, StatusCodes.Status307TemporaryRedirect];

    private readonly ConcurrentQueue<(string Path, string Body)> _requests = new();
    private readonly Uri _location;
    private WebApplication? _app;
    private Uri _root = null!;

    private RedirectingUpstream(Uri location) => _location = location;

    /// <summary>Every request, as path and body, in arrival order.</summary>
    public IReadOnlyList<(string Path, string Body)> Requests => [.. _requests];

    public static async Task<RedirectingUpstream> StartAsync(Uri location)
    {
        var redirector = new RedirectingUpstream(location);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(redirector.HandleAsync);
        await app.StartAsync();
        redirector._app = app;
        redirector._root = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return redirector;
    }

    /// <summary><c>http://127.0.0.1:PORT/{status}/v1/</c>: every request under it is answered with that status.</summary>
    public Uri BaseUrlFor(int status) => new(_root, $"/{status}/v1/");

    public IReadOnlyList<string> BodiesFor(string model) =>
        Requests.Where(r => ReadModel(r.Body) == model).Select(r => r.Body).ToArray();

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static string? ReadModel(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("model", out var model) ? model.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var path = context.Request.Path.Value ?? "";
        _requests.Enqueue((path, body));
        var segment = path.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        context.Response.StatusCode = int.TryParse(segment, out var status) && Statuses.Contains(status) ? status : StatusCodes.Status404NotFound;
        context.Response.Headers.Location = _location.ToString();
    }
}
