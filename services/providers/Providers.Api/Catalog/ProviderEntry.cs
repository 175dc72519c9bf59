using StitchFin.Contracts.Providers;

namespace StitchFin.Providers.Catalog;

/// <summary>USD per 1,000 tokens, input and output priced separately.</summary>
public sealed record ProviderPrice(decimal InputPer1KTokens, decimal OutputPer1KTokens);

/// <summary>
/// One configured provider: which API it speaks (its kind) and where, how to authenticate, what it costs and which
/// models agents may use on it. A class rather than a record so that no generated <c>ToString</c> can print the key.
/// </summary>
public sealed class ProviderEntry(
    string name,
    string kind,
    Uri baseUrl,
    string? apiKey,
    ProviderPrice price,
    IReadOnlyDictionary<string, string> headers,
    IReadOnlyList<string> models,
    string? defaultModel,
    bool streaming = true,
    int? defaultMaxTokens = null)
{
    public string Name => name;

    public string Kind => kind;

    /// <summary>Ends with a slash, so relative paths append to it.</summary>
    public Uri BaseUrl => baseUrl;

    /// <summary>Where requests go: the base URL and the path of the API the kind speaks.</summary>
    public Uri EndpointUrl { get; } = new(baseUrl, kind switch
    {
        ProviderKinds.OpenAiResponses => "responses",
        ProviderKinds.Anthropic => "messages",
        _ => "chat/completions",
    });

    /// <summary>Sent as <c>Authorization: Bearer</c> (as <c>x-api-key</c> to Anthropic); never logged, never answered.</summary>
    public string? ApiKey => apiKey;

    public ProviderPrice Price => price;

    public IReadOnlyDictionary<string, string> Headers => headers;

    /// <summary>The models agents may choose; empty means any model the upstream accepts.</summary>
    public IReadOnlyList<string> Models => models;

    public string? DefaultModel => defaultModel;

    /// <summary>Whether the upstream is asked for streams (every reply) or, for servers that cannot stream, whole replies.</summary>
    public bool Streaming => streaming;

    /// <summary><c>anthropic</c> only: the <c>max_tokens</c> of a request that names no limit.</summary>
    public int? DefaultMaxTokens => defaultMaxTokens;

    /// <summary>The model a request names, or the default; null when neither exists.</summary>
    public string? ResolveModel(string? requested) => string.IsNullOrEmpty(requested) ? defaultModel : requested;

    public bool Serves(string model) => models.Count == 0 || models.Contains(model, StringComparer.Ordinal);

    public ProviderInfo ToInfo() => new(name, kind, price.InputPer1KTokens, price.OutputPer1KTokens, models, defaultModel);

    public override string ToString() => $"{name} ({kind})";
}
