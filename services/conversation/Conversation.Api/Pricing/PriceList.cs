using Microsoft.Extensions.Options;

namespace StitchFin.Conversation.Pricing;

/// <summary>Prices each exchange with the configured price of the provider that answered it.</summary>
public sealed class PriceList(IOptions<PricingOptions> options)
{
    private readonly PricingOptions _options = options.Value;

    public decimal CostUsd(string provider, int tokensIn, int tokensOut)
    {
        var price = _options.Providers.GetValueOrDefault(provider)
            ?? throw new InvalidOperationException($"No price is configured for provider '{provider}' (section {PricingOptions.SectionName}).");
        return CostFormula.CostUsd(price, tokensIn, tokensOut);
    }
}
