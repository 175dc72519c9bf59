using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StitchFin.Tenancy.Keys;
using StitchFin.Tenancy.Tests.Support;

namespace StitchFin.Tenancy.Tests;

public sealed class ApiKeyFormatTests
{
    private static readonly ApiKeySecrets Secrets = new(Options.Create(new ApiKeyOptions { Pepper = TestPepper.Value }));

    [Fact]
    public void Issued_key_has_prefix_lookup_id_and_32_secret_bytes()
    {
        var issued = Secrets.Issue();

        Assert.Equal(ApiKeyFormat.Length, issued.Plaintext.Length);
        Assert.Matches("^sfk_[0-9a-hjkmnp-tv-z]{12}_[A-Za-z0-9_-]{43}$", issued.Plaintext);
        Assert.Equal("sfk_" + issued.LookupId, issued.Prefix);
        Assert.StartsWith(issued.Prefix + "_", issued.Plaintext, StringComparison.Ordinal);
        Assert.Equal(32, Base64Url.DecodeFromChars(issued.Plaintext.AsSpan(17)).Length);
        Assert.True(ApiKeyFormat.TryReadLookupId(issued.Plaintext, out var lookupId));
        Assert.Equal(issued.LookupId, lookupId);
    }

    [Fact]
    public void Issued_key_prints_only_its_prefix()
    {
        var issued = Secrets.Issue();

        Assert.Equal(issued.Prefix, issued.ToString());
        Assert.DoesNotContain(issued.Plaintext, $"{issued}", StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_are_distinct()
    {
        var keys = Enumerable.Range(0, 200).Select(_ => Secrets.Issue()).ToList();

        Assert.Equal(keys.Count, keys.Select(k => k.Plaintext).Distinct().Count());
        Assert.Equal(keys.Count, keys.Select(k => k.LookupId).Distinct().Count());
    }

    [Fact]
    public void Hash_is_hmac_sha256_of_the_key_under_the_pepper()
    {
        var issued = Secrets.Issue();

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(TestPepper.Value), Encoding.UTF8.GetBytes(issued.Plaintext));
        Assert.Equal(expected, issued.Hash);
        Assert.True(Secrets.Matches(issued.Plaintext, issued.Hash));
    }

    [Fact]
    public void Another_pepper_does_not_match()
    {
        var issued = Secrets.Issue();
        var other = new ApiKeySecrets(Options.Create(new ApiKeyOptions { Pepper = new string('p', 40) }));

        Assert.False(other.Matches(issued.Plaintext, issued.Hash));
    }

    [Fact]
    public void Changing_any_single_character_breaks_the_match()
    {
        var issued = Secrets.Issue();

        for (var i = 0; i < issued.Plaintext.Length; i++)
        {
            var replacement = issued.Plaintext[i] == 'a' ? 'b' : 'a';
            var mutated = string.Concat(issued.Plaintext.AsSpan(0, i), [replacement], issued.Plaintext.AsSpan(i + 1));
            Assert.False(Secrets.Matches(mutated, issued.Hash), $"mutation at {i} matched");
        }

        Assert.False(Secrets.Matches(issued.Plaintext + "a", issued.Hash));
        Assert.False(Secrets.Matches(issued.Plaintext[..^1], issued.Hash));
        Assert.False(Secrets.Matches(issued.Plaintext[..^1] + "é", issued.Hash));
    }

    /// <summary>A key of the right shape: scheme, 12 lookup characters, separator, 43 base64url characters.</summary>
    private const string WellFormed = "sfk_0123456789ab_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    public static TheoryData<string?> MalformedKeys() => new()
    {
        null,
        "",
        "sfk_",
        WellFormed[..^1],                        // one character short
        WellFormed + "A",                        // one character long
        "xyz" + WellFormed[3..],                 // wrong scheme
        WellFormed[..16] + "-" + WellFormed[17..], // wrong separator
        WellFormed[..15] + "B" + WellFormed[16..], // upper case in the lookup id
        WellFormed[..15] + "i" + WellFormed[16..], // 'i' is not in the lookup alphabet
        WellFormed[..^1] + "*",                  // not base64url
        WellFormed[..^1] + "=",                  // padding is not used
        " " + WellFormed[1..],                   // whitespace
    };

    [Fact]
    public void The_well_formed_example_is_accepted()
    {
        Assert.Equal(ApiKeyFormat.Length, WellFormed.Length);
        Assert.True(ApiKeyFormat.TryReadLookupId(WellFormed, out var lookupId));
        Assert.Equal("0123456789ab", lookupId);
    }

    [Theory]
    [MemberData(nameof(MalformedKeys))]
    public void Malformed_keys_are_rejected(string? key)
    {
        Assert.False(ApiKeyFormat.TryReadLookupId(key, out var lookupId));
        Assert.Equal("", lookupId);
    }

    [Fact]
    public void A_key_is_read_by_position_even_with_separators_inside_the_secret()
    {
        var key = WellFormed[..17] + new string('_', 20) + new string('-', 22) + "A";

        Assert.True(ApiKeyFormat.TryReadLookupId(key, out var lookupId));
        Assert.Equal("0123456789ab", lookupId);
    }

    [Fact]
    public void A_short_pepper_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ApiKeySecrets(Options.Create(new ApiKeyOptions { Pepper = new string('p', 31) })));
        Assert.Contains("ApiKeys:Pepper", error.Message, StringComparison.Ordinal);
    }
}
