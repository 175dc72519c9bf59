using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StitchFin.Testing.Upstream;

namespace StitchFin.Testing.Tests;

/// <summary>A plain HttpClient speaking to a <see cref="FaultyUpstream"/> the way an OpenAI client would.</summary>
public abstract class UpstreamClient : IAsyncLifetime
{
    protected FaultyUpstream Upstream { get; private set; } = null!;

    protected HttpClient Http { get; } = new();

    /// <summary>The key the upstream demands, or null for none.</summary>
    protected virtual string? ApiKey => null;

    public async Task InitializeAsync() => Upstream = await FaultyUpstream.StartAsync(ApiKey);

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Upstream.DisposeAsync();
    }

    protected Uri ChatUrl => new(Upstream.BaseUrl, "chat/completions");

    protected static string Body(string model, bool stream = false, bool includeUsage = false, string content = "Hi there")
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "Be brief." },
                new JsonObject { ["role"] = "user", ["content"] = content }),
        };
        if (stream)
        {
            body["stream"] = true;
        }

        if (includeUsage)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        return body.ToJsonString();
    }

    protected Task<HttpResponseMessage> PostAsync(string body, string? apiKey = null, Action<HttpRequestHeaders>? headers = null,
        CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, ChatUrl)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        headers?.Invoke(request.Headers);
        return Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    protected Task<HttpResponseMessage> ChatAsync(string model, bool stream = false, bool includeUsage = false,
        CancellationToken cancellationToken = default) =>
        PostAsync(Body(model, stream, includeUsage), cancellationToken: cancellationToken);

    protected static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    /// <summary>Every event's data until the stream ends normally.</summary>
    protected static async Task<List<string>> EventsAsync(HttpResponseMessage response)
    {
        var (events, error) = await EventsUntilEndAsync(response);
        Assert.Null(error);
        return events;
    }

    /// <summary>Every event's data until the stream ends, and the exception it ended with, if any.</summary>
    protected static async Task<(List<string> Events, Exception? Error)> EventsUntilEndAsync(HttpResponseMessage response)
    {
        var events = new List<string>();
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync());
        try
        {
            while (await reader.NextAsync(CancellationToken.None) is { } data)
            {
                events.Add(data);
            }

            return (events, null);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return (events, ex);
        }
    }

    protected static JsonElement Parse(string data)
    {
        using var document = JsonDocument.Parse(data);
        return document.RootElement.Clone();
    }

    protected static JsonElement Delta(string chunk) => Parse(chunk).GetProperty("choices")[0].GetProperty("delta");

    protected static string? FinishReason(string chunk) => Parse(chunk).GetProperty("choices")[0].GetProperty("finish_reason").GetString();
}

/// <summary>Reads server-sent events line by line: each <c>data:</c> block up to its blank line is one event.</summary>
public sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);

    /// <summary>The next event's data, or null at the end of the stream.</summary>
    public async Task<string?> NextAsync(CancellationToken cancellationToken)
    {
        var data = new List<string>();
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    return string.Join('\n', data);
                }

                continue;
            }

            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Add(line["data: ".Length..]);
            }
        }

        return data.Count > 0 ? string.Join('\n', data) : null;
    }

    public void Dispose() => _reader.Dispose();
}
