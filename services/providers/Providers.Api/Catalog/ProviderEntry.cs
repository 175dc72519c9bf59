using StitchFin.Contracts.Providers;

namespace StitchFin.Providers.Catalog;

/// <summary>USD per 1,000 tokens, input and output priced separately.</summary>
public sealed record ProviderPrice(decimal InputPer1KTokens, decimal OutputPer1KTokens);

/// <summary>
/// One configured provider: where its OpenAI-compatible API is, how to authenticate, what it costs and which models
/// agents may use on it. A class rather than a record so that no generated <c>ToString</c> can print the key.
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
    bool streaming = true)
{
    public string Name => name;

    public string Kind => kind;

    /// <summary>Ends with a slash, so relative paths append to it.</summary>
    public Uri BaseUrl => baseUrl;

    public Uri ChatCompletionsUrl { get; } = new(baseUrl, "chat/completions");

    /// <summary>Sent as <c>Authorization: Bearer</c>; never logged, never answered.</summary>
    public string? ApiKey => apiKey;

    public ProviderPrice Price => price;

    public IReadOnlyDictionary<string, string> Headers => headers;

    /// <summary>The models agents may choose; empty means any model the upstream accepts.</summary>
    public IReadOnlyList<string> Models => models;

    public string? DefaultModel => defaultModel;

    /// <summary>Whether the upstream is asked for streams (every reply) or, for servers that cannot stream, whole replies.</summary>
    public bool Streaming => streaming;

    /// <summary>The model a request names, or the default; null when neither exists.</summary>
    public string? ResolveModel(string? requested) => string.IsNullOrEmpty(requested) ? defaultModel : requested;

    public bool Serves(string model) => models.Count == 0 || models.Contains(model, StringComparer.Ordinal);

    public ProviderInfo ToInfo() => new(name, kind, price.InputPer1KTokens, price.OutputPer1KTokens, models, defaultModel);

    public override string ToString() => $"{name} ({kind})";
}
