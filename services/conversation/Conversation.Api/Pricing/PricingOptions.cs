using StitchFin.Contracts.Providers;

namespace StitchFin.Conversation.Pricing;

/// <summary>USD per 1,000 tokens, input and output priced separately.</summary>
public sealed class ProviderPrice
{
    public decimal InputPer1KTokens { get; set; }
    public decimal OutputPer1KTokens { get; set; }
}

/// <summary>
/// Configuration section <c>Pricing</c>, keyed by provider name, for example
/// <c>Pricing:VendorA:InputPer1KTokens=0.0030</c>. A provider that configuration leaves out keeps API.md's default.
/// </summary>
public sealed class PricingOptions
{
    public const string SectionName = "Pricing";

    /// <summary>Starts from the defaults; binding the section overrides single values or adds providers.</summary>
    public Dictionary<string, ProviderPrice> Providers { get; } = new(StringComparer.Ordinal)
    {
        [ProviderNames.VendorA] = new() { InputPer1KTokens = 0.0030m, OutputPer1KTokens = 0.0060m },
        [ProviderNames.VendorB] = new() { InputPer1KTokens = 0.0020m, OutputPer1KTokens = 0.0040m },
    };
}
