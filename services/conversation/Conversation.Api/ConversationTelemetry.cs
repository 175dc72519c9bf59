using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace StitchFin.Conversation;

/// <summary>Spans and counters of the conversation service (exported through the StitchFin.* wildcard).</summary>
public sealed class ConversationTelemetry
{
    public const string Name = "StitchFin.Conversation";

    public static readonly ActivitySource Source = new(Name);

    private readonly Counter<long> _messages;
    private readonly Counter<long> _replays;
    private readonly Counter<long> _conflicts;

    public ConversationTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        _messages = meter.CreateCounter<long>("stitchfin.conversation.messages", "{exchange}", "Message exchanges by outcome");
        _replays = meter.CreateCounter<long>("stitchfin.conversation.idempotency.replays", "{request}", "Requests answered from a stored response");
        _conflicts = meter.CreateCounter<long>("stitchfin.conversation.idempotency.conflicts", "{request}", "Requests refused because their key is in use or was used for another request");
    }

    public void MessageExchanged(string channel, string outcome) =>
        _messages.Add(1, new KeyValuePair<string, object?>("channel", channel), new KeyValuePair<string, object?>("outcome", outcome));

    public void Replayed(string channel) => _replays.Add(1, new KeyValuePair<string, object?>("channel", channel));

    public void Conflict(string reason) => _conflicts.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
