using System.Net.Http.Headers;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Catalog;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Providers.Upstreams;

/// <summary>
/// One upstream API's wire format, with no I/O: how to authenticate, the request body, a whole reply and the events of
/// a stream, each reduced to the <see cref="ChatPiece"/>s of the common model. <see cref="UpstreamAdapter"/> does the
/// rest (timing, classifying, relaying) alike for every protocol, so retries, breakers and failover cannot differ.
/// Error bodies need no protocol: OpenAI's and Anthropic's both carry an <c>error</c> object with a <c>message</c> and
/// a <c>type</c>, which <see cref="OpenAiChatWire.ReadError"/> reads.
/// </summary>
public interface IUpstreamProtocol
{
    /// <summary>False when the API has no stop sequences: the adapter then cuts the reply at the first one itself.</summary>
    bool StopsAtSequences { get; }

    /// <summary>The key (and any version header the API requires) on a request to <paramref name="provider"/>.</summary>
    void Authenticate(HttpRequestHeaders headers, ProviderEntry provider);

    /// <summary>The request body: the agent's system prompt, the turns, the tools and the options, as this API words them.</summary>
    byte[] Request(Target target, NormalizedRequest request, bool stream);

    /// <summary>A whole reply (its text, tool calls, finish reason, usage, model, or its error); null when the body is not one.</summary>
    ChatPiece? ReadWhole(ReadOnlySpan<byte> body);

    /// <summary>A reader for one stream's events; it may keep state between them (usage reported in two parts, say).</summary>
    IUpstreamEventReader NewEventReader();
}

/// <summary>Reads one stream's server-sent events in order.</summary>
public interface IUpstreamEventReader
{
    UpstreamEvent Read(string eventType, ReadOnlySpan<byte> data);
}

/// <summary>
/// One event of a stream: what it adds to the reply (<see cref="Piece"/>), and whether it is the stream's last
/// (<see cref="End"/>: <c>[DONE]</c>, <c>message_stop</c>, <c>response.completed</c>). Neither is a malformed event.
/// </summary>
public readonly record struct UpstreamEvent(bool End, ChatPiece? Piece)
{
    /// <summary>An event that adds nothing (a ping, a block's start): not malformed, and proof that the upstream is alive.</summary>
    public static readonly ChatPiece Nothing = new(null, null, null, null, null);

    public static UpstreamEvent Malformed => default;

    public static UpstreamEvent Ignored => new(false, Nothing);

    public static UpstreamEvent Of(ChatPiece piece) => new(false, piece);
}

/// <summary>The protocol of each provider kind.</summary>
public static class UpstreamProtocols
{
    private static readonly IUpstreamProtocol Chat = new OpenAiChatProtocol();
    private static readonly IUpstreamProtocol Responses = new OpenAiResponsesProtocol();
    private static readonly IUpstreamProtocol Anthropic = new AnthropicMessagesProtocol();

    public static IUpstreamProtocol For(string kind) => kind switch
    {
        ProviderKinds.OpenAiResponses => Responses,
        ProviderKinds.Anthropic => Anthropic,
        _ => Chat,
    };

    /// <summary>A JSON value of an event or a body, or null when it is not JSON (one value, nothing after it).</summary>
    internal static JsonDocument? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The string property when present and a string.</summary>
    internal static string? String(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>A non-negative integer property, or null when it is absent or not one.</summary>
    internal static int? Count(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            && value.TryGetInt32(out var count) && count >= 0
            ? count
            : null;

    internal static JsonElement Property(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;
}
