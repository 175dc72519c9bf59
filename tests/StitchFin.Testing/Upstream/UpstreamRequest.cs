namespace StitchFin.Testing.Upstream;

/// <summary>
/// One message as the upstream received it; multi-part content (content blocks, input parts) is joined into one
/// string. In a Responses request, <c>function_call</c> and <c>function_call_output</c> items are messages of those roles.
/// </summary>
public sealed record UpstreamMessage(string Role, string Content);

/// <summary>Token counts a <see cref="UpstreamStep"/> reports instead of the computed defaults.</summary>
public sealed record UpstreamUsage(int PromptTokens, int CompletionTokens, int CachedTokens = 0)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>
/// One HTTP request <see cref="FaultyUpstream"/> saw, rejected ones included. Times are
/// <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> values: compare them with
/// <see cref="System.Diagnostics.Stopwatch.GetElapsedTime(long, long)"/>.
/// </summary>
public sealed record UpstreamRequest
{
    private readonly List<long> _chunkSentAt = [];
    private readonly TaskCompletionSource<string> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public required string Method { get; init; }

    /// <summary>The request path, e.g. <c>/v1/chat/completions</c>.</summary>
    public required string Path { get; init; }

    /// <summary>The API the path names (chat completions for a path that names none).</summary>
    public UpstreamApi Api { get; init; }

    /// <summary>The system prompt apart from the messages: Anthropic's <c>system</c>, the Responses API's <c>instructions</c>.</summary>
    public string? System { get; init; }

    /// <summary>The body's <c>model</c>, or "" when the body has none.</summary>
    public required string Model { get; init; }

    /// <summary>The body's <c>stream</c>.</summary>
    public required bool Stream { get; init; }

    /// <summary>The body's <c>stream_options.include_usage</c> (chat completions only).</summary>
    public required bool IncludeUsage { get; init; }

    public required IReadOnlyList<UpstreamMessage> Messages { get; init; }

    public required string Body { get; init; }

    /// <summary>Request headers by case-insensitive name; repeated headers joined with ", ".</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    /// <summary>When the request arrived (a Stopwatch timestamp).</summary>
    public required long ReceivedAt { get; init; }

    /// <summary>0-based position among the requests recorded for <see cref="Model"/> (its index in RequestsFor(Model)).</summary>
    public required int Index { get; init; }

    /// <summary>When each server-sent event (each <c>data:</c> block, <c>[DONE]</c> included) was flushed.</summary>
    public IReadOnlyList<long> ChunkSentAt
    {
        get
        {
            lock (_chunkSentAt)
            {
                return [.. _chunkSentAt];
            }
        }
    }

    /// <summary>How the request ended ("replied", "reset", "stalled-aborted", ...), or null while it is still being answered.</summary>
    public string? Outcome => _finished.Task.IsCompletedSuccessfully ? _finished.Task.Result : null;

    /// <summary>Completes with <see cref="Outcome"/> when the server has finished with the request.</summary>
    public Task<string> Finished => _finished.Task;

    internal void ChunkSent(long timestamp)
    {
        lock (_chunkSentAt)
        {
            _chunkSentAt.Add(timestamp);
        }
    }

    internal void Finish(string outcome) => _finished.TrySetResult(outcome);

    public override string ToString() =>
        $"#{Index} {Method} {Path} model='{Model}' stream={Stream} includeUsage={IncludeUsage} outcome={Outcome ?? "(pending)"} events={ChunkSentAt.Count}";
}

/// <summary>A function call a scripted reply makes: its id, the function's name and its arguments as JSON text.</summary>
public sealed record UpstreamToolCall(string Id, string Name, string Arguments);
