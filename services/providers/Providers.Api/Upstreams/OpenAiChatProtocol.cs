using System.Net.Http.Headers;
using StitchFin.Providers.Catalog;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Providers.Upstreams;

/// <summary>
/// OpenAI's <c>POST {base}/chat/completions</c>, which the simulated vendors and <c>openai-compatible</c> upstreams speak:
/// <see cref="OpenAiChatWire"/> knows the format; a stream asks for its usage in a last chunk
/// (<c>stream_options.include_usage</c>) and ends with <c>[DONE]</c>.
/// </summary>
public sealed class OpenAiChatProtocol : IUpstreamProtocol
{
    public bool StopsAtSequences => true;

    public void Authenticate(HttpRequestHeaders headers, ProviderEntry provider)
    {
        if (provider.ApiKey is { } key)
        {
            headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }

    public byte[] Request(Target target, NormalizedRequest request, bool stream) =>
        OpenAiChatWire.Request(target.Model, request.SystemPrompt, request.Turns, request.Tools, request.Options, stream);

    public ChatPiece? ReadWhole(ReadOnlySpan<byte> body) => OpenAiChatWire.TryRead(body, out var piece) ? piece : null;

    public IUpstreamEventReader NewEventReader() => Events.Instance;

    /// <summary>Chunks carry no state between them: one reader serves every stream.</summary>
    private sealed class Events : IUpstreamEventReader
    {
        public static readonly Events Instance = new();

        public UpstreamEvent Read(string eventType, ReadOnlySpan<byte> data) =>
            data.SequenceEqual("[DONE]"u8) ? new UpstreamEvent(true, null)
            : OpenAiChatWire.TryRead(data, out var chunk) ? UpstreamEvent.Of(chunk)
            : UpstreamEvent.Malformed;
    }
}
