using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace StitchFin.Tenancy.Keys;

public sealed class ApiKeyOptions
{
    public const string SectionName = "ApiKeys";
    public const int MinPepperLength = 32;

    /// <summary>Server-side secret mixed into every key hash, so a leaked table alone cannot confirm a guessed key.</summary>
    public string Pepper { get; set; } = "";
}

/// <summary>A freshly issued key. <see cref="ToString"/> shows only the prefix, so the plaintext cannot reach a log by accident.</summary>
public sealed class IssuedApiKey(string plaintext, string lookupId, string prefix, byte[] hash)
{
    public string Plaintext { get; } = plaintext;
    public string LookupId { get; } = lookupId;
    public string Prefix { get; } = prefix;
    public byte[] Hash { get; } = hash;

    public override string ToString() => Prefix;
}

/// <summary>Issues keys and checks presented keys against the stored HMAC-SHA256(pepper, key).</summary>
public sealed class ApiKeySecrets
{
    private readonly byte[] _pepper;

    public ApiKeySecrets(IOptions<ApiKeyOptions> options)
    {
        var pepper = options.Value.Pepper;
        if (pepper.Length < ApiKeyOptions.MinPepperLength)
        {
            throw new InvalidOperationException($"{ApiKeyOptions.SectionName}:Pepper must be a secret of at least {ApiKeyOptions.MinPepperLength} characters.");
        }

        _pepper = Encoding.UTF8.GetBytes(pepper);
    }

    public IssuedApiKey Issue()
    {
        var (plaintext, lookupId, prefix) = ApiKeyFormat.Generate();
        var hash = new byte[HMACSHA256.HashSizeInBytes];
        Hash(plaintext, hash);
        return new IssuedApiKey(plaintext, lookupId, prefix, hash);
    }

    /// <summary>Recomputes the hash of a presented key and compares it with the stored one in constant time.</summary>
    public bool Matches(string key, ReadOnlySpan<byte> storedHash)
    {
        if (key.Length != ApiKeyFormat.Length || !Ascii.IsValid(key))
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Hash(key, hash);
        return CryptographicOperations.FixedTimeEquals(hash, storedHash);
    }

    private void Hash(string key, Span<byte> destination)
    {
        Span<byte> keyBytes = stackalloc byte[ApiKeyFormat.Length];
        var written = Encoding.ASCII.GetBytes(key, keyBytes);
        HMACSHA256.HashData(_pepper, keyBytes[..written], destination);
        CryptographicOperations.ZeroMemory(keyBytes);
    }
}
