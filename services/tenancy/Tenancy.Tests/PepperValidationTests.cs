using Microsoft.Extensions.Options;
using StitchFin.Testing;

namespace StitchFin.Tenancy.Tests;

/// <summary>
/// Tenancy refuses to start without a proper pepper instead of issuing keys it could not verify later, and outside
/// Development (tests run as Testing) with the one published in the repository.
/// </summary>
public sealed class PepperValidationTests
{
    [Theory]
    [InlineData("")]
    [InlineData("only-31-characters-long-pepper!")]
    [InlineData("dev-api-key-pepper-0123456789abcdef")]
    public async Task Service_does_not_start_with_a_missing_short_or_published_pepper(string pepper)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Database"] = "Host=127.0.0.1;Port=1;Database=never_opened",
            ["Identity:SigningKey"] = TestInfrastructure.SigningKey,
            ["ApiKeys:Pepper"] = pepper,
        };
        await using var factory = new ServiceFactory<Program>(configuration);

        var error = Assert.ThrowsAny<OptionsValidationException>(() => factory.Server);
        Assert.Contains("ApiKeys:Pepper", error.Message, StringComparison.Ordinal);
    }
}
