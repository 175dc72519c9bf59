using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace StitchFin.Tenancy.Keys;

/// <summary>
/// The shape of a key: <c>sfk_{lookupId}_{secret}</c>. The lookup id (12 characters of lowercase base32) finds the
/// stored row without scanning hashes; the secret is 32 random bytes in base64url. Both parts have fixed lengths,
/// so a key is read by position, and base64url's own <c>_</c> and <c>-</c> never confuse the parser.
/// </summary>
public static class ApiKeyFormat
{
    public const string Scheme = "sfk_";
    public const int LookupIdLength = 12;
    public const int SecretBytes = 32;
    public const int PrefixLength = 16; // Scheme + lookup id
    public const int Length = 60; // Prefix + '_' + 43 base64url characters

    /// <summary>Crockford's base32 alphabet in lowercase: no look-alike characters, and 256 is a multiple of 32, so no bias.</summary>
    private const string LookupAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    private static readonly SearchValues<char> LookupCharacters = SearchValues.Create(LookupAlphabet);

    public static (string Plaintext, string LookupId, string Prefix) Generate()
    {
        var lookupId = RandomNumberGenerator.GetString(LookupAlphabet, LookupIdLength);
        Span<byte> secret = stackalloc byte[SecretBytes];
        RandomNumberGenerator.Fill(secret);
        var prefix = Scheme + lookupId;
        var plaintext = $"{prefix}_{Base64Url.EncodeToString(secret)}";
        CryptographicOperations.ZeroMemory(secret);
        return (plaintext, lookupId, prefix);
    }

    /// <summary>True when <paramref name="key"/> has the exact shape of a key; only then is its lookup id returned.</summary>
    public static bool TryReadLookupId(string? key, out string lookupId)
    {
        lookupId = "";
        if (key is not { Length: Length }
            || !key.StartsWith(Scheme, StringComparison.Ordinal)
            || key[PrefixLength] != '_')
        {
            return false;
        }

        var lookup = key.AsSpan(Scheme.Length, LookupIdLength);
        if (lookup.ContainsAnyExcept(LookupCharacters)
            || !Base64Url.IsValid(key.AsSpan(PrefixLength + 1), out var secretLength)
            || secretLength != SecretBytes)
        {
            return false;
        }

        lookupId = lookup.ToString();
        return true;
    }
}
