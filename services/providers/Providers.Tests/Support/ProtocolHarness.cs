using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Catalog;
using StitchFin.Providers.Upstreams;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Providers.Tests.Support;

/// <summary>What a stream's events added up to, as the adapter would put them together.</summary>
public sealed record ReadStream(
    string? Model, string Text, string? FinishReason, ChatUsage? Usage, IReadOnlyList<ToolCall> ToolCalls, ChatError? Error, bool Ended, int Malformed);

/// <summary>Drives a protocol without I/O: the request it writes for a target, and what it reads from events.</summary>
public static class ProtocolHarness
{
    public static Target Target(string kind, string model = "m-1", int? defaultMaxTokens = null) =>
        new(new ProviderEntry("P", kind, new Uri("http://127.0.0.1:9/v1/"), "sk-k", new ProviderPrice(0.001m, 0.002m),
            new Dictionary<string, string>(), [], null, true, defaultMaxTokens), model);

    public static JsonNode RequestJson(IUpstreamProtocol protocol, Target target, NormalizedRequest request, bool stream = true) =>
        JsonNode.Parse(protocol.Request(target, request, stream))!;

    public static void AssertJson(string expected, JsonNode actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {JsonNode.Parse(expected)!.ToJsonString()}\n  actual {actual.ToJsonString()}");

    public static ChatPiece? Whole(IUpstreamProtocol protocol, string json) => protocol.ReadWhole(Encoding.UTF8.GetBytes(json));

    /// <summary>Feeds "event-type data" lines (or bare data) in order; stops at the stream's last event, as the adapter does.</summary>
    public static ReadStream Read(IUpstreamProtocol protocol, params (string Type, string Data)[] events)
    {
        var reader = protocol.NewEventReader();
        string? model = null, finish = null;
        ChatUsage? usage = null;
        ChatError? error = null;
        var text = new StringBuilder();
        var calls = new SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>();
        var malformed = 0;
        var ended = false;
        foreach (var (type, data) in events)
        {
            var read = reader.Read(type, Encoding.UTF8.GetBytes(data));
            if (read.Piece is { } piece)
            {
                model ??= piece.Model;
                text.Append(piece.Content);
                finish = piece.FinishReason ?? finish;
                usage = piece.Usage ?? usage;
                error ??= piece.Error;
                foreach (var call in piece.ToolCalls ?? [])
                {
                    var assembled = calls.TryGetValue(call.Index, out var existing) ? existing : (null, null, new StringBuilder());
                    assembled.Id ??= call.Id;
                    assembled.Name ??= call.Name;
                    assembled.Arguments.Append(call.Arguments);
                    calls[call.Index] = assembled;
                }
            }
            else if (!read.End)
            {
                malformed++;
            }

            if (read.End)
            {
                ended = true;
                break;
            }
        }

        return new ReadStream(model, text.ToString(), finish, usage,
            calls.Values.Select(c => new ToolCall(c.Id ?? "", c.Name ?? "", c.Arguments.ToString())).ToArray(), error, ended, malformed);
    }

    public static ToolDefinition Tool(string name, string? schema = """{"type":"object","properties":{"city":{"type":"string"}}}""") =>
        new(name, $"The {name} tool.", schema is null ? null : JsonDocument.Parse(schema).RootElement.Clone());
}
