using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace StitchFin.ServiceDefaults.Identity;

/// <summary>One call direction a service needs a key for: it signs as <see cref="Issuer"/>, or accepts from it.</summary>
public sealed record IdentityKeyPair(string Issuer, string Audience);

/// <summary>
/// The keys of a service's calls, one per issuer and audience: the configured <c>Identity:Keys:{issuer}:{audience}</c>,
/// else (Development and tests) derived from the root <c>Identity:SigningKey</c>.
/// </summary>
public sealed class InternalIdentityKeys
{
    private readonly Dictionary<IdentityKeyPair, byte[]> _configured = new(PairComparer.Instance);
    private readonly ConcurrentDictionary<IdentityKeyPair, byte[]> _derived = new(PairComparer.Instance);
    private readonly string _root;

    public InternalIdentityKeys(InternalIdentityOptions options)
    {
        _root = options.SigningKey;
        foreach (var (issuer, audiences) in options.Keys)
        {
            foreach (var (audience, key) in audiences)
            {
                if (!string.IsNullOrEmpty(key))
                {
                    _configured[new IdentityKeyPair(issuer, audience)] = Encoding.UTF8.GetBytes(key);
                }
            }
        }
    }

    /// <summary>
    /// The key of calls from <paramref name="issuer"/> to <paramref name="audience"/>: HMAC-SHA256 of
    /// <c>stitchfin-identity:{issuer}>{audience}</c> under the root, as lowercase hex (what run.sh computes with openssl).
    /// </summary>
    public static string Derive(string root, string issuer, string audience) => Convert.ToHexStringLower(
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(root), Encoding.UTF8.GetBytes($"stitchfin-identity:{issuer.ToLowerInvariant()}>{audience.ToLowerInvariant()}")));

    /// <summary>The configuration key that holds the key of calls from <paramref name="issuer"/> to <paramref name="audience"/>.</summary>
    public static string Setting(string issuer, string audience) => $"{InternalIdentityOptions.SectionName}:Keys:{issuer}:{audience}";

    public byte[]? Find(string issuer, string audience)
    {
        var pair = new IdentityKeyPair(issuer, audience);
        if (_configured.TryGetValue(pair, out var key))
        {
            return key;
        }

        return _root.Length == 0 ? null : _derived.GetOrAdd(pair, p => Encoding.UTF8.GetBytes(Derive(_root, p.Issuer, p.Audience)));
    }

    /// <summary>
    /// Why the keys cannot serve <paramref name="required"/>: a key missing, short or published, or a root given outside
    /// Development. Empty when they can. Names settings, never values.
    /// </summary>
    public static IEnumerable<string> Problems(InternalIdentityOptions options, IEnumerable<IdentityKeyPair> required, bool development, bool rootAllowed)
    {
        if (options.SigningKey.Length > 0)
        {
            if (!rootAllowed)
            {
                yield return $"{InternalIdentityOptions.SectionName}:SigningKey (the root that derives every service's keys) is for Development; "
                    + $"outside it give each service only its own keys under {InternalIdentityOptions.SectionName}:Keys:{{issuer}}:{{audience}}.";
            }
            else if (Secrets.Problem($"{InternalIdentityOptions.SectionName}:SigningKey", options.SigningKey, development) is { } rootProblem)
            {
                yield return rootProblem;
            }
        }

        var keys = new InternalIdentityKeys(options);
        foreach (var (issuer, audiences) in options.Keys)
        {
            foreach (var (audience, key) in audiences)
            {
                if (Secrets.Problem(Setting(issuer, audience), key ?? "", development) is { } problem)
                {
                    yield return problem;
                }
            }
        }

        foreach (var pair in required.Distinct(PairComparer.Instance))
        {
            if (keys.Find(pair.Issuer, pair.Audience) is null)
            {
                yield return $"{Setting(pair.Issuer, pair.Audience)} must be set to a secret of at least {Secrets.MinimumLength} characters.";
            }
        }
    }

    private sealed class PairComparer : IEqualityComparer<IdentityKeyPair>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals(IdentityKeyPair? x, IdentityKeyPair? y) =>
            StringComparer.OrdinalIgnoreCase.Equals(x?.Issuer, y?.Issuer) && StringComparer.OrdinalIgnoreCase.Equals(x?.Audience, y?.Audience);

        public int GetHashCode(IdentityKeyPair pair) => HashCode.Combine(
            StringComparer.OrdinalIgnoreCase.GetHashCode(pair.Issuer), StringComparer.OrdinalIgnoreCase.GetHashCode(pair.Audience));
    }
}

/// <summary>The key pairs this service must hold, added by each part that signs or accepts identities.</summary>
public sealed class RequiredIdentityKeys
{
    public List<IdentityKeyPair> Pairs { get; } = [];
}

/// <summary>Validates on start that every required key is there and sound, so a deployment missing one never starts.</summary>
internal sealed class InternalIdentityKeysValidation(IOptions<RequiredIdentityKeys> required, IHostEnvironment environment)
    : IValidateOptions<InternalIdentityOptions>
{
    /// <summary>The environment the in-process test hosts run as; like Development, it may hold the root.</summary>
    public const string TestingEnvironment = "Testing";

    public ValidateOptionsResult Validate(string? name, InternalIdentityOptions options)
    {
        var problems = InternalIdentityKeys.Problems(options, required.Value.Pairs, environment.IsDevelopment(),
            rootAllowed: environment.IsDevelopment() || environment.IsEnvironment(TestingEnvironment)).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
