using StitchFin.Providers.Catalog;

namespace StitchFin.Providers.Tests.Pricing;

public sealed class CostFormulaTests
{
    private static readonly ProviderPrice VendorA = new(0.0030m, 0.0060m);
    private static readonly ProviderPrice VendorB = new(0.0020m, 0.0040m);

    public static TheoryData<string, int, int, decimal> Cases => new()
    {
        { "VendorA", 1000, 1000, 0.009m },
        { "VendorA", 13, 42, 0.000291m },            // 0.000039 + 0.000252
        { "VendorB", 13, 42, 0.000194m },            // 0.000026 + 0.000168
        { "VendorA", 0, 0, 0m },
        { "VendorB", 1, 0, 0.000002m },
        { "VendorA", 4000, 120, 0.01272m },
        { "VendorA", int.MaxValue, int.MaxValue, 19327.352823m },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Cost_is_input_plus_output_per_thousand_tokens(string provider, int tokensIn, int tokensOut, decimal expected)
    {
        var price = provider == "VendorA" ? VendorA : VendorB;
        Assert.Equal(expected, CostFormula.CostUsd(price, tokensIn, tokensOut));
    }

    [Theory]
    [InlineData(1, 0.0000005, 0.000001)]    // exactly half a micro-dollar rounds up, not to even (0)
    [InlineData(3, 0.0000005, 0.000002)]    // 0.0000015 -> 0.000002
    [InlineData(5, 0.0000005, 0.000003)]    // 0.0000025 -> 0.000003 (banker's rounding would give 0.000002)
    [InlineData(1, 0.00000049, 0)]          // just under half rounds down
    [InlineData(1, 0.00000051, 0.000001)]
    public void Rounds_half_away_from_zero_to_six_decimals(int tokensIn, double costPerInputToken, double expected)
    {
        var price = new ProviderPrice((decimal)costPerInputToken * 1000m, 0m);
        Assert.Equal((decimal)expected, CostFormula.CostUsd(price, tokensIn, 0));
    }

    [Fact]
    public void Rounding_a_negative_midpoint_goes_away_from_zero_too()
    {
        // Not a real price; it pins the rounding mode, which MidpointRounding.ToEven would break.
        var price = new ProviderPrice(-0.0005m, 0m);
        Assert.Equal(-0.000001m, CostFormula.CostUsd(price, 1, 0));
    }

    [Fact]
    public void Costs_always_carry_six_decimals()
    {
        var price = new ProviderPrice(1m, 0m);
        Assert.Equal("1.000000", CostFormula.CostUsd(price, 1000, 0).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("0.000291", CostFormula.CostUsd(VendorA, 13, 42).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Defaults_are_the_documented_prices()
    {
        var catalog = new ProviderCatalog(Microsoft.Extensions.Options.Options.Create(new ProviderCatalogOptions()));
        Assert.Equal(0.0090m, CostFormula.CostUsd(catalog.Find("VendorA")!.Price, 1000, 1000));
        Assert.Equal(0.0060m, CostFormula.CostUsd(catalog.Find("VendorB")!.Price, 1000, 1000));
    }
}
