namespace StitchFin.Conversation.Responses;

/// <summary>
/// A response of the Responses API kept for its tenant (<c>store</c>, the default): its id is the assistant message's,
/// its output is that message; this row adds what the request asked (for rendering it again) and the chain it
/// continues. Written in the exchange's own transaction, so a response can be continued the moment it was answered.
/// </summary>
public sealed class StoredResponse
{
    public Guid Id { get; init; }
    public Guid TenantId { get; init; }
    public Guid SessionId { get; init; }
    public Guid UserMessageId { get; init; }
    public Guid? PreviousResponseId { get; init; }

    /// <summary>The request's parameters as the response object repeats them (instructions, tools, metadata, ...), as JSON.</summary>
    public required string Request { get; init; }

    /// <summary>The request's input items, each with its id, as JSON.</summary>
    public required string InputItems { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeletedAt { get; set; }
}
