using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using StitchFin.Conversation.Pricing;

namespace StitchFin.Conversation.Tests.Unit;

public sealed class CostFormulaTests
{
    private static readonly ProviderPrice VendorA = new() { InputPer1KTokens = 0.0030m, OutputPer1KTokens = 0.0060m };
    private static readonly ProviderPrice VendorB = new() { InputPer1KTokens = 0.0020m, OutputPer1KTokens = 0.0040m };

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
        var price = new ProviderPrice { InputPer1KTokens = (decimal)costPerInputToken * 1000m, OutputPer1KTokens = 0m };
        Assert.Equal((decimal)expected, CostFormula.CostUsd(price, tokensIn, 0));
    }

    [Fact]
    public void Rounding_a_negative_midpoint_goes_away_from_zero_too()
    {
        // Not a real price; it pins the rounding mode, which MidpointRounding.ToEven would break.
        var price = new ProviderPrice { InputPer1KTokens = -0.0005m, OutputPer1KTokens = 0m };
        Assert.Equal(-0.000001m, CostFormula.CostUsd(price, 1, 0));
    }

    [Fact]
    public void Costs_always_carry_six_decimals()
    {
        var price = new ProviderPrice { InputPer1KTokens = 1m, OutputPer1KTokens = 0m };
        Assert.Equal("1.000000", CostFormula.CostUsd(price, 1000, 0).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("0.000291", CostFormula.CostUsd(VendorA, 13, 42).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Defaults_are_the_documented_prices()
    {
        var prices = new PriceList(Options.Create(new PricingOptions()));
        Assert.Equal(0.0090m, prices.CostUsd("VendorA", 1000, 1000));
        Assert.Equal(0.0060m, prices.CostUsd("VendorB", 1000, 1000));
    }

    [Fact]
    public void Configuration_overrides_single_prices_and_keeps_the_other_defaults()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pricing:VendorA:OutputPer1KTokens"] = "0.0100",
            ["Pricing:VendorC:InputPer1KTokens"] = "0.0010",
            ["Pricing:VendorC:OutputPer1KTokens"] = "0.0020",
        }).Build();
        var options = new PricingOptions();
        configuration.GetSection(PricingOptions.SectionName).Bind(options.Providers);
        var prices = new PriceList(Options.Create(options));

        Assert.Equal(0.0130m, prices.CostUsd("VendorA", 1000, 1000));
        Assert.Equal(0.0060m, prices.CostUsd("VendorB", 1000, 1000));
        Assert.Equal(0.0030m, prices.CostUsd("VendorC", 1000, 1000));
        Assert.Throws<InvalidOperationException>(() => prices.CostUsd("VendorZ", 1, 1));
    }
}
