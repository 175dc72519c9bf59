using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json.Nodes;

namespace StitchFin.Testing;

/// <summary>A streamed answer read as it arrives: the status and headers at once, then one event at a time.</summary>
public sealed class StreamedReply : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly IAsyncEnumerator<SseItem<string>> _events;

    private StreamedReply(HttpResponseMessage response, IAsyncEnumerator<SseItem<string>> events)
    {
        _response = response;
        _events = events;
    }

    public HttpStatusCode Status => _response.StatusCode;

    public string? ContentType => _response.Content.Headers.ContentType?.MediaType;

    public bool Replayed => _response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true";

    public static async Task<StreamedReply> SendAsync(HttpClient http, string path, string json, string? idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        return new StreamedReply(response, SseParser.Create(body).EnumerateAsync().GetAsyncEnumerator());
    }

    /// <summary>The next event, or null at the end of the stream.</summary>
    public async Task<SseItem<string>?> NextAsync() => await _events.MoveNextAsync() ? _events.Current : null;

    public async Task<List<SseItem<string>>> RestAsync()
    {
        var rest = new List<SseItem<string>>();
        while (await NextAsync() is { } item)
        {
            rest.Add(item);
        }

        return rest;
    }

    public async Task<string> BodyAsync() => await _response.Content.ReadAsStringAsync();

    public static JsonNode Json(SseItem<string> item) => JsonNode.Parse(item.Data)!;

    public async ValueTask DisposeAsync()
    {
        await _events.DisposeAsync();
        _response.Dispose();
    }
}
