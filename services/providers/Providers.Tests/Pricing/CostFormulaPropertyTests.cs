using System.Numerics;
using CsCheck;
using StitchFin.Providers.Catalog;

namespace StitchFin.Providers.Tests.Pricing;

/// <summary>The cost formula against an independent integer computation, over generated tokens and prices.</summary>
public sealed class CostFormulaPropertyTests
{
    // Prices with up to four decimals (as configured), tokens up to ten million per side.
    private static readonly Gen<(int In, int Out, int PriceIn, int PriceOut)> Cases =
        Gen.Select(Gen.Int[0, 10_000_000], Gen.Int[0, 10_000_000], Gen.Int[0, 10_000], Gen.Int[0, 10_000]);

    [Fact]
    public void Cost_is_the_exact_sum_rounded_once_half_away_from_zero_to_six_decimals()
    {
        Cases.Sample(c =>
        {
            var price = new ProviderPrice(c.PriceIn / 10_000m, c.PriceOut / 10_000m);
            // tokens/1000 * price/10^4 dollars = tokens*price / 10^7 dollars = tokens*price / 10 micro-dollars.
            var tenthsOfMicro = (BigInteger)c.In * c.PriceIn + (BigInteger)c.Out * c.PriceOut;
            var micro = (tenthsOfMicro + 5) / 10;
            var expected = (decimal)micro / 1_000_000m;
            var actual = CostFormula.CostUsd(price, c.In, c.Out);
            return actual == expected && actual.Scale == CostFormula.Decimals;
        }, seed: "0N0XIzNsQ0O2", iter: 20_000);
    }

    [Fact]
    public void More_tokens_never_cost_less()
    {
        Gen.Select(Cases, Gen.Int[0, 5000], Gen.Int[0, 5000]).Sample((c, extraIn, extraOut) =>
        {
            var price = new ProviderPrice(c.PriceIn / 10_000m, c.PriceOut / 10_000m);
            return CostFormula.CostUsd(price, c.In + extraIn, c.Out + extraOut) >= CostFormula.CostUsd(price, c.In, c.Out);
        }, seed: "0N0XIzNsQ0O2", iter: 20_000);
    }
}
