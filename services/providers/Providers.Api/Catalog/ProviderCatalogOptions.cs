using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Vendors;

namespace StitchFin.Providers.Catalog;

/// <summary>
/// One <c>Providers:{Name}</c> section. Every value is optional for the simulated vendors (their defaults apply);
/// any other provider needs at least <c>Kind</c>, <c>BaseUrl</c> and both prices.
/// </summary>
public sealed class ProviderOptions
{
    /// <summary>What the upstream speaks: one of <see cref="ProviderKinds.Configurable"/> (or <c>simulated</c>, for the built-in vendors).</summary>
    public string? Kind { get; set; }

    /// <summary>
    /// The API root that the kind's path is appended to (<c>chat/completions</c>, <c>responses</c> or <c>messages</c>),
    /// e.g. <c>https://api.openai.com/v1</c> or <c>https://api.anthropic.com/v1</c>.
    /// </summary>
    public string? BaseUrl { get; set; }

    public string? ApiKey { get; set; }

    /// <summary>Read the key from this environment variable instead (e.g. <c>OPENAI_API_KEY</c>).</summary>
    public string? ApiKeyEnvironmentVariable { get; set; }

    public decimal? InputPer1KTokens { get; set; }

    public decimal? OutputPer1KTokens { get; set; }

    /// <summary>Extra request headers, e.g. <c>OpenAI-Organization</c>.</summary>
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public string[]? Models { get; set; }

    public string? DefaultModel { get; set; }

    /// <summary>False for a server that cannot stream: it is asked for whole replies, and a stream to a client gets it in one piece.</summary>
    public bool Streaming { get; set; } = true;

    /// <summary>
    /// <c>anthropic</c> only: the <c>max_tokens</c> sent when a request names no limit, since Anthropic's API requires
    /// one (OpenAI's APIs default to the model's own).
    /// </summary>
    public int? DefaultMaxTokens { get; set; }
}

/// <summary>
/// The <c>Providers</c> section: the provider catalogue. VendorA and VendorB are always present as simulated vendors
/// with API.md's prices; configuration may change their address or prices and adds other providers, for example
/// <c>Providers__OpenAI__Kind=openai-compatible</c>, <c>Providers__OpenAI__BaseUrl=https://api.openai.com/v1</c>,
/// <c>Providers__OpenAI__ApiKeyEnvironmentVariable=OPENAI_API_KEY</c>, <c>Providers__OpenAI__InputPer1KTokens=0.00015</c>,
/// <c>Providers__OpenAI__OutputPer1KTokens=0.0006</c>.
/// </summary>
public sealed partial class ProviderCatalogOptions
{
    public const string SectionName = "Providers";
    public const int MaxModelLength = 200;
    public const int MaxNameLength = 64;

    /// <summary>
    /// What an <c>anthropic</c> provider sends as <c>max_tokens</c> when a request names no limit: every Claude model
    /// can write this much, so no request is refused for it.
    /// </summary>
    public const int AnthropicDefaultMaxTokens = 4096;

    public const int MaxDefaultMaxTokens = 1_000_000;

    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Content-Type", "Content-Length", "Host", "Transfer-Encoding", "Connection", "Accept",
    };

    /// <summary>Anthropic's key header, which only <c>ApiKey</c> may set (its <c>anthropic-version</c> may be changed).</summary>
    private static readonly HashSet<string> AnthropicReservedHeaders = new(StringComparer.OrdinalIgnoreCase) { "x-api-key" };

    /// <summary>Sections by provider name, in configuration order after the simulated vendors.</summary>
    public Dictionary<string, ProviderOptions> Providers { get; } = new(StringComparer.Ordinal);

    /// <summary>Reads environment variables named by <see cref="ProviderOptions.ApiKeyEnvironmentVariable"/>.</summary>
    public Func<string, string?> Environment { get; set; } = System.Environment.GetEnvironmentVariable;

    public IReadOnlyList<ProviderEntry> Build()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(SectionName, typeof(ProviderCatalogOptions), errors);
        }

        return Names().Select(Entry).ToArray();
    }

    /// <returns>What is wrong with the catalogue, one message per setting; never a key's value.</returns>
    public List<string> Validate()
    {
        var errors = new List<string>();
        foreach (var name in Names())
        {
            var options = Providers.GetValueOrDefault(name) ?? new ProviderOptions();
            var prefix = $"{SectionName}:{name}";
            var simulated = SimulatedVendor.All.FirstOrDefault(v => v.Name == name);
            if (!ProviderNameRegex().IsMatch(name))
            {
                errors.Add($"{prefix}: a provider name is 1-{MaxNameLength} letters, digits, '.', '_' or '-', starting with a letter.");
            }

            var kind = options.Kind ?? (simulated is null ? null : ProviderKinds.Simulated);
            if (kind != ProviderKinds.Simulated && !ProviderKinds.Configurable.Contains(kind))
            {
                errors.Add($"{prefix}:Kind must be one of {string.Join(", ", ProviderKinds.Configurable.Select(k => $"'{k}'"))} or '{ProviderKinds.Simulated}'.");
                continue;
            }

            if (kind == ProviderKinds.Simulated && simulated is null)
            {
                errors.Add($"{prefix}:Kind '{ProviderKinds.Simulated}' is only for the built-in vendors ({string.Join(", ", SimulatedVendor.All.Select(v => v.Name))}).");
            }

            var baseUrl = options.BaseUrl ?? simulated?.DefaultBaseUrl.ToString();
            if (!IsHttpUrl(baseUrl))
            {
                errors.Add($"{prefix}:BaseUrl '{options.BaseUrl}' must be an absolute http or https URL.");
            }

            if (options.ApiKeyEnvironmentVariable is { } variable && string.IsNullOrEmpty(Environment(variable)))
            {
                errors.Add($"{prefix}:ApiKeyEnvironmentVariable names '{variable}', which is not set.");
            }

            if (options.ApiKey is not null && options.ApiKeyEnvironmentVariable is not null)
            {
                errors.Add($"{prefix}: set ApiKey or ApiKeyEnvironmentVariable, not both.");
            }

            foreach (var (field, price) in new[] { ("InputPer1KTokens", options.InputPer1KTokens), ("OutputPer1KTokens", options.OutputPer1KTokens) })
            {
                if (price is null && simulated is null)
                {
                    errors.Add($"{prefix}:{field} is required: the price in USD per 1,000 tokens.");
                }
                else if (price is < 0 or > 1000)
                {
                    errors.Add($"{prefix}:{field} must be between 0 and 1000.");
                }
            }

            foreach (var (header, value) in options.Headers)
            {
                if (ReservedHeaders.Contains(header) || !HeaderNameRegex().IsMatch(header)
                    || (kind == ProviderKinds.Anthropic && AnthropicReservedHeaders.Contains(header)))
                {
                    errors.Add($"{prefix}:Headers:{header} is not a header a provider entry may set (use ApiKey for Authorization).");
                }
                else if (value.Any(char.IsControl))
                {
                    errors.Add($"{prefix}:Headers:{header} must not contain control characters.");
                }
            }

            if (options.DefaultMaxTokens is { } maxTokens && (kind != ProviderKinds.Anthropic || maxTokens is < 1 or > MaxDefaultMaxTokens))
            {
                errors.Add(kind == ProviderKinds.Anthropic
                    ? $"{prefix}:DefaultMaxTokens must be between 1 and {MaxDefaultMaxTokens}."
                    : $"{prefix}:DefaultMaxTokens is only for kind '{ProviderKinds.Anthropic}' (OpenAI's APIs need no limit).");
            }

            var models = ModelsOf(options, kind == ProviderKinds.Simulated ? simulated : null);
            if (models.Any(m => m.Length is 0 or > MaxModelLength || m.Any(char.IsControl)))
            {
                errors.Add($"{prefix}:Models: each model is 1-{MaxModelLength} characters without control characters.");
            }

            var defaultModel = DefaultModelOf(options, kind == ProviderKinds.Simulated ? simulated : null);
            if (defaultModel is not null && models.Count > 0 && !models.Contains(defaultModel, StringComparer.Ordinal))
            {
                errors.Add($"{prefix}:DefaultModel '{defaultModel}' must be one of its Models.");
            }
        }

        return errors;
    }

    private IEnumerable<string> Names() =>
        SimulatedVendor.All.Select(v => v.Name).Concat(Providers.Keys.Where(k => SimulatedVendor.All.All(v => v.Name != k)));

    private ProviderEntry Entry(string name)
    {
        var options = Providers.GetValueOrDefault(name) ?? new ProviderOptions();
        var simulated = SimulatedVendor.All.FirstOrDefault(v => v.Name == name);
        var kind = options.Kind ?? ProviderKinds.Simulated;
        // A built-in vendor pointed at a real upstream keeps its prices, not the simulator's model.
        var simulator = kind == ProviderKinds.Simulated ? simulated : null;
        var baseUrl = (options.BaseUrl ?? simulated!.DefaultBaseUrl.ToString()).Trim();
        var apiKey = options.ApiKeyEnvironmentVariable is { } variable ? Environment(variable) : options.ApiKey;
        var price = new ProviderPrice(
            options.InputPer1KTokens ?? simulated!.DefaultPrice.InputPer1KTokens,
            options.OutputPer1KTokens ?? simulated!.DefaultPrice.OutputPer1KTokens);
        return new ProviderEntry(
            name,
            kind,
            new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/"),
            string.IsNullOrEmpty(apiKey) ? null : apiKey,
            price,
            new Dictionary<string, string>(options.Headers, StringComparer.OrdinalIgnoreCase),
            ModelsOf(options, simulator),
            DefaultModelOf(options, simulator),
            options.Streaming,
            kind == ProviderKinds.Anthropic ? options.DefaultMaxTokens ?? AnthropicDefaultMaxTokens : null);
    }

    private static IReadOnlyList<string> ModelsOf(ProviderOptions options, SimulatedVendor? simulated) =>
        options.Models ?? (simulated is null ? [] : [simulated.Model]);

    private static string? DefaultModelOf(ProviderOptions options, SimulatedVendor? simulated) =>
        options.DefaultModel ?? simulated?.Model ?? (options.Models is [var only] ? only : null);

    private static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url?.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment);

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex ProviderNameRegex();

    [GeneratedRegex(@"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
    private static partial Regex HeaderNameRegex();
}

/// <summary>Binds <c>Providers</c>: each child section is one provider; unknown keys inside one are errors.</summary>
public sealed class ProviderCatalogOptionsSetup(IConfiguration configuration) : IConfigureOptions<ProviderCatalogOptions>
{
    public void Configure(ProviderCatalogOptions options)
    {
        foreach (var child in configuration.GetSection(ProviderCatalogOptions.SectionName).GetChildren())
        {
            options.Providers[child.Key] = child.Get<ProviderOptions>(binder => binder.ErrorOnUnknownConfiguration = true) ?? new ProviderOptions();
        }
    }
}

public sealed class ProviderCatalogOptionsValidator : IValidateOptions<ProviderCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, ProviderCatalogOptions options) =>
        options.Validate() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
}
