using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;

namespace StitchFin.ServiceDefaults.Tests;

/// <summary>The secrets rule, through the options validation every service registers it with.</summary>
public sealed class SecretsTests
{
    private const string Setting = "Section:Secret";
    private static readonly string OwnSecret = new('s', Secrets.MinimumLength);

    public static TheoryData<string> PublishedValues => new(
        "dev-admin-key-change-me",
        "dev-identity-signing-key-0123456789abcdef",
        "dev-api-key-pepper-0123456789abcdef",
        "change-me-admin-key",
        "change-me-to-a-random-secret-of-32-or-more-chars",
        "change-me-to-another-random-secret-of-32-or-more-chars");

    [Theory]
    [MemberData(nameof(PublishedValues))]
    public void A_published_value_is_refused_outside_development_naming_the_setting_and_not_the_value(string published)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(Environments.Production, published));

        Assert.Contains(Setting, error.Message, StringComparison.Ordinal);
        Assert.Contains("published", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(published, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("31-characters-of-secret-0123456")]
    public void A_short_value_is_refused_outside_development(string secret)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve("Staging", secret));

        Assert.Contains($"{Setting} must be set to a secret of at least 32 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_of_its_own_of_32_characters_is_accepted_anywhere()
    {
        Assert.Equal(OwnSecret, Resolve(Environments.Production, OwnSecret));
        Assert.Equal(OwnSecret, Resolve(Environments.Development, OwnSecret));
    }

    [Theory]
    [MemberData(nameof(PublishedValues))]
    public void Development_may_use_the_published_values(string published) =>
        Assert.Equal(published, Resolve(Environments.Development, published, shortAllowedInDevelopment: true));

    [Fact]
    public void Development_still_refuses_a_short_key_unless_short_is_allowed_there()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(Environments.Development, "short"));
        Assert.Contains(Setting, error.Message, StringComparison.Ordinal);

        Assert.Equal("", Resolve(Environments.Development, "", shortAllowedInDevelopment: true));
        Assert.Throws<OptionsValidationException>(() => Resolve(Environments.Production, "", shortAllowedInDevelopment: true));
    }

    private static string? Resolve(string environment, string secret, bool shortAllowedInDevelopment = false)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = environment });
        services.AddOptions<SecretOptions>()
            .Configure(o => o.Secret = secret)
            .ValidateSecret(Setting, o => o.Secret, shortAllowedInDevelopment);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<SecretOptions>>().Value.Secret;
    }

    private sealed class SecretOptions
    {
        public string? Secret { get; set; }
    }
}
