using System.Net;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.LoadBench.Load;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.LoadBench.Targets;

/// <summary>
/// A client's conversation through the edge: open a session, send messages with unique Idempotency-Keys,
/// and open a new session every <c>messagesPerSession</c> messages. Each call is one request.
/// </summary>
public sealed class EdgeConversationWorkload(HttpClient edge, Guid agentId, int workers, int messagesPerSession)
{
    public const string CreateSession = "POST /sessions";
    public const string SendMessage = "POST /sessions/{id}/messages";

    public static readonly byte[] MessageBody =
        JsonSerializer.SerializeToUtf8Bytes(new { content = "Benchmark: summarise tomorrow's plan in one short line, please." });

    private readonly byte[] _sessionBody = JsonSerializer.SerializeToUtf8Bytes(new { agentId });
    private readonly Guid?[] _sessions = new Guid?[workers];
    private readonly int[] _sentInSession = new int[workers];
    private long _messagesAnswered;

    /// <summary>Every message answered 201 since this workload began, warm-up included: what metering must count.</summary>
    public long MessagesAnswered => Interlocked.Read(ref _messagesAnswered);

    public async Task<Outcome> NextAsync(int worker, CancellationToken cancellationToken)
    {
        if (_sessions[worker] is not { } session || _sentInSession[worker] >= messagesPerSession)
        {
            return await OpenSessionAsync(worker, cancellationToken);
        }

        _sentInSession[worker]++;
        using var request = new HttpRequestMessage(HttpMethod.Post, $"sessions/{session}/messages") { Content = BenchHttp.JsonBody(MessageBody) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        var outcome = await Requests.SendAsync(SendMessage, edge, request, HttpStatusCode.Created, cancellationToken);
        if (outcome.Succeeded)
        {
            Interlocked.Increment(ref _messagesAnswered);
        }

        return outcome;
    }

    private async Task<Outcome> OpenSessionAsync(int worker, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "sessions") { Content = BenchHttp.JsonBody(_sessionBody) };
            using var response = await edge.SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                return Outcome.Failure(CreateSession, $"HTTP {(int)response.StatusCode}");
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            _sessions[worker] = json.RootElement.GetProperty("id").GetGuid();
            _sentInSession[worker] = 0;
            return Outcome.Success(CreateSession);
        }
        catch (Exception ex) when (Outcome.TryDescribe(ex, cancellationToken, out var error))
        {
            return Outcome.Failure(CreateSession, error);
        }
    }
}

/// <summary>The providers service's internal completion API, called directly or through a proxy.</summary>
public sealed class CompletionWorkload(HttpClient client)
{
    public const string Operation = "POST /internal/completions";

    private static readonly byte[] Body = JsonSerializer.SerializeToUtf8Bytes(
        new CompletionRequest(ProviderNames.VendorA, ProviderNames.VendorB, "You are helpful.",
            "Benchmark: summarise tomorrow's plan in one short line, please."),
        JsonDefaults.JsonOptions);

    public async Task<Outcome> NextAsync(int worker, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "internal/completions") { Content = BenchHttp.JsonBody(Body) };
        return await Requests.SendAsync(Operation, client, request, HttpStatusCode.OK, cancellationToken);
    }
}

/// <summary>The cheapest authenticated read: <c>GET /tenants/me</c>, through the edge or straight to tenancy.</summary>
public sealed class TenantsMeWorkload(HttpClient client)
{
    public const string Operation = "GET /tenants/me";

    public async Task<Outcome> NextAsync(int worker, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "tenants/me");
        return await Requests.SendAsync(Operation, client, request, HttpStatusCode.OK, cancellationToken);
    }
}

/// <summary>
/// One of the agent APIs through the edge (whole replies, no idempotency key): a chat completion, a response or an
/// Anthropic message with the same question to the bench's agent, so their rows differ only by their translation.
/// </summary>
public sealed class AgentApiWorkload(HttpClient edge, string path, byte[] body)
{
    private const string Question = "Benchmark: summarise tomorrow's plan in one short line, please.";

    private long _answered;

    public string Operation { get; } = $"POST /{path}";

    /// <summary>Every request answered 200: each is a metered exchange.</summary>
    public long MessagesAnswered => Interlocked.Read(ref _answered);

    public static AgentApiWorkload ChatCompletion(HttpClient edge, Guid agentId) => new(edge, "v1/chat/completions",
        JsonSerializer.SerializeToUtf8Bytes(new { model = agentId.ToString(), messages = new[] { new { role = "user", content = Question } } }));

    public static AgentApiWorkload Response(HttpClient edge, Guid agentId) => new(edge, "v1/responses",
        JsonSerializer.SerializeToUtf8Bytes(new { model = agentId.ToString(), input = Question, store = false }));

    public static AgentApiWorkload Message(HttpClient edge, Guid agentId) => new(edge, "v1/messages",
        JsonSerializer.SerializeToUtf8Bytes(new { model = agentId.ToString(), max_tokens = 256, messages = new[] { new { role = "user", content = Question } } }));

    public async Task<Outcome> NextAsync(int worker, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = BenchHttp.JsonBody(body) };
        var outcome = await Requests.SendAsync(Operation, edge, request, HttpStatusCode.OK, cancellationToken);
        if (outcome.Succeeded)
        {
            Interlocked.Increment(ref _answered);
        }

        return outcome;
    }
}
