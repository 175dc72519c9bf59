namespace StitchFin.Providers.Catalog;

/// <summary>API.md's price of one exchange, in decimal so that cents never drift.</summary>
public static class CostFormula
{
    public const int Decimals = 6;

    // Adding a zero of scale 6 gives every cost exactly six decimals, as numeric(18,6) gives it back, so an
    // answered cost and the same cost read from the database serialize alike.
    private const decimal SixDecimalZero = 0.000000m;

    /// <summary><c>tokensIn/1000*in + tokensOut/1000*out</c>, rounded half away from zero to 6 decimals.</summary>
    public static decimal CostUsd(ProviderPrice price, int tokensIn, int tokensOut) =>
        Math.Round(
            tokensIn / 1000m * price.InputPer1KTokens + tokensOut / 1000m * price.OutputPer1KTokens,
            Decimals,
            MidpointRounding.AwayFromZero) + SixDecimalZero;
}
