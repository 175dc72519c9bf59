using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.Tenancy.Tests.Support;

namespace StitchFin.Tenancy.Tests;

[Collection(TenancyCollection.Name)]
public sealed class KeysApiTests(TenancyFixture fixture)
{
    private static readonly string[] ListedFields = ["createdAt", "id", "lastUsedAt", "name", "prefix", "revokedAt"];

    [Fact]
    public async Task Created_key_is_shown_once_listed_without_secret_and_refused_after_revocation()
    {
        var tenant = await fixture.CreateTenantAsync("Initech");

        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        using var created = await tenant.Client.PostAsJsonAsync("/keys", new { name = " ci " });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["apiKey", "createdAt", "id", "name", "prefix"], Json.PropertyNames(key));
        var keyId = key.GetProperty("id").GetGuid();
        var apiKey = key.GetProperty("apiKey").GetString()!;
        var prefix = key.GetProperty("prefix").GetString()!;
        Assert.Equal($"/keys/{keyId}", created.Headers.Location?.OriginalString);
        Assert.Equal("ci", key.GetProperty("name").GetString());
        Assert.Matches("^sfk_[0-9a-z]{12}$", prefix);
        Assert.StartsWith(prefix + "_", apiKey, StringComparison.Ordinal);
        Assert.Equal(fixture.Time.GetUtcNow(), Json.UtcTime(key.GetProperty("createdAt")));

        using (var verified = await fixture.VerifyAsync(apiKey))
        {
            Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
            var identity = JsonDocument.Parse(await verified.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(tenant.Id, identity.GetProperty("tenantId").GetGuid());
            Assert.Equal(keyId, identity.GetProperty("keyId").GetGuid());
        }

        using (var listing = await tenant.Client.GetAsync("/keys"))
        {
            var text = await listing.Content.ReadAsStringAsync();
            Assert.DoesNotContain(apiKey, text, StringComparison.Ordinal);
            Assert.DoesNotContain(tenant.ApiKey, text, StringComparison.Ordinal);
            Assert.DoesNotContain("hash", text, StringComparison.OrdinalIgnoreCase);
            var keys = JsonDocument.Parse(text).RootElement.EnumerateArray().ToArray();
            Assert.Equal(["ci", "default"], keys.Select(k => k.GetProperty("name").GetString()));
            Assert.All(keys, k => Assert.Equal(ListedFields, Json.PropertyNames(k)));
            Assert.Equal(JsonValueKind.Null, keys[0].GetProperty("lastUsedAt").ValueKind);
            Assert.Equal(JsonValueKind.Null, keys[0].GetProperty("revokedAt").ValueKind);
            Assert.Equal(prefix, keys[0].GetProperty("prefix").GetString());
        }

        fixture.Time.Advance(TimeSpan.FromMinutes(5));
        using (var revoked = await tenant.Client.DeleteAsync($"/keys/{keyId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        using (var refused = await fixture.VerifyAsync(apiKey))
        {
            await Json.AssertProblemAsync(refused, HttpStatusCode.NotFound);
        }

        var revokedKey = (await fixture.ListKeysAsync(tenant.Client)).Single(k => k.GetProperty("id").GetGuid() == keyId);
        Assert.Equal(fixture.Time.GetUtcNow(), Json.UtcTime(revokedKey.GetProperty("revokedAt")));

        using (var again = await tenant.Client.DeleteAsync($"/keys/{keyId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        }

        using var defaultKey = await fixture.VerifyAsync(tenant.ApiKey);
        Assert.Equal(HttpStatusCode.OK, defaultKey.StatusCode);
    }

    [Fact]
    public async Task Another_tenant_cannot_see_or_revoke_a_key()
    {
        var owner = await fixture.CreateTenantAsync("Owner");
        var other = await fixture.CreateTenantAsync("Other");
        var ownerKey = await fixture.CreateKeyAsync(owner.Client, "deploy");
        var ownerKeyId = ownerKey.GetProperty("id").GetGuid();

        var visibleToOther = await fixture.ListKeysAsync(other.Client);
        Assert.Equal(["default"], visibleToOther.Select(k => k.GetProperty("name").GetString()));
        Assert.DoesNotContain(visibleToOther, k => k.GetProperty("id").GetGuid() == ownerKeyId);

        using (var foreign = await other.Client.DeleteAsync($"/keys/{ownerKeyId}"))
        {
            await Json.AssertProblemAsync(foreign, HttpStatusCode.NotFound);
        }

        using (var unknown = await other.Client.DeleteAsync($"/keys/{Guid.NewGuid()}"))
        {
            await Json.AssertProblemAsync(unknown, HttpStatusCode.NotFound);
        }

        var stillActive = (await fixture.ListKeysAsync(owner.Client)).Single(k => k.GetProperty("id").GetGuid() == ownerKeyId);
        Assert.Equal(JsonValueKind.Null, stillActive.GetProperty("revokedAt").ValueKind);
        using var verified = await fixture.VerifyAsync(ownerKey.GetProperty("apiKey").GetString()!);
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
    }

    [Fact]
    public async Task Keys_come_a_page_at_a_time_and_a_walk_sees_each_once_even_when_created_in_the_same_microsecond()
    {
        var tenant = await fixture.CreateTenantAsync("Many Keys");
        // The clock stands still, so all 105 keys (and the tenant's default key) share one createdAt.
        for (var i = 1; i <= 105; i++)
        {
            using var created = await tenant.Client.PostAsJsonAsync("/keys", new { name = $"key {i}" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var stored = await fixture.QueryAsync(db => db.ApiKeys.Where(k => k.TenantId == tenant.Id).Select(k => new { k.Id, k.CreatedAt }).ToListAsync());
        Assert.Equal(106, stored.Count);
        Assert.Single(stored.Select(k => k.CreatedAt).Distinct());

        // Without a limit a page holds the most it may.
        Assert.Equal(100, (await fixture.ListKeysAsync(tenant.Client)).Length);

        var seen = new List<Guid>();
        var page = await fixture.ListKeysAsync(tenant.Client, "?limit=20");
        while (page.Length > 0)
        {
            Assert.InRange(page.Length, 1, 20);
            seen.AddRange(page.Select(k => k.GetProperty("id").GetGuid()));
            var last = page[^1];
            page = await fixture.ListKeysAsync(tenant.Client,
                $"?limit=20&before={Uri.EscapeDataString(last.GetProperty("createdAt").GetString()!)}&beforeId={last.GetProperty("id").GetGuid()}");
        }

        Assert.Equal(106, seen.Count);
        Assert.Equal(stored.Select(k => k.Id).ToHashSet(), seen.ToHashSet());
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=", "limit")]
    [InlineData("before=yesterday", "before")]
    [InlineData("beforeId=0193a1b2-0000-7000-8000-000000000001", "beforeId")]
    [InlineData("before=2026-11-27T22:30:00Z&beforeId=nope", "beforeId")]
    public async Task Bad_key_list_parameters_are_400(string query, string field)
    {
        var tenant = await fixture.CreateTenantAsync("Bad Pages");

        using var response = await tenant.Client.GetAsync($"/keys?{query}");

        await Json.AssertValidationProblemAsync(response, field);
    }

    [Theory]
    [InlineData("not-a-guid")]
    [InlineData("12345")]
    public async Task Revoking_a_non_guid_id_is_a_4xx_problem(string id)
    {
        var tenant = await fixture.CreateTenantAsync("Malformed");

        using var response = await tenant.Client.DeleteAsync($"/keys/{id}");

        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.BadRequest, HttpStatusCode.NotFound });
        await Json.AssertProblemAsync(response, response.StatusCode);
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"name":""}""")]
    [InlineData("""{"name":"\t "}""")]
    public async Task Invalid_key_names_are_400_with_a_name_error(string json)
    {
        var tenant = await fixture.CreateTenantAsync("Validator");
        using var content = new StringContent(json, Encoding.UTF8, "application/json");

        using var response = await tenant.Client.PostAsync("/keys", content);

        await Json.AssertValidationProblemAsync(response, "name");
    }

    [Fact]
    public async Task Key_names_may_have_100_characters_but_not_101()
    {
        var tenant = await fixture.CreateTenantAsync("Lengths");

        using var tooLong = await tenant.Client.PostAsJsonAsync("/keys", new { name = new string('k', 101) });
        await Json.AssertValidationProblemAsync(tooLong, "name");

        var longest = await fixture.CreateKeyAsync(tenant.Client, new string('k', 100));
        Assert.Equal(100, longest.GetProperty("name").GetString()!.Length);
    }

    [Fact]
    public async Task Creating_a_key_for_a_tenant_that_does_not_exist_is_404()
    {
        using var response = await fixture.ClientFor(Guid.NewGuid()).PostAsJsonAsync("/keys", new { name = "ghost" });

        await Json.AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Stored_hash_is_a_peppered_hmac_and_never_the_key()
    {
        var tenant = await fixture.CreateTenantAsync("Hashes");
        var created = await fixture.CreateKeyAsync(tenant.Client, "stored");
        var keyId = created.GetProperty("id").GetGuid();
        var apiKey = created.GetProperty("apiKey").GetString()!;

        var row = await fixture.QueryAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == keyId));

        var keyBytes = Encoding.UTF8.GetBytes(apiKey);
        var secretBytes = Convert.FromBase64String(ToBase64(apiKey[17..]));
        Assert.Equal(32, row.Hash.Length);
        Assert.False(row.Hash.AsSpan().SequenceEqual(keyBytes));
        Assert.Equal(-1, row.Hash.AsSpan().IndexOf(secretBytes.AsSpan(0, 8)));
        Assert.DoesNotContain(apiKey[17..], Encoding.Latin1.GetString(row.Hash), StringComparison.Ordinal);
        Assert.DoesNotContain(apiKey[17..], Convert.ToBase64String(row.Hash), StringComparison.Ordinal);
        Assert.NotEqual(SHA256.HashData(keyBytes), row.Hash);
        Assert.Equal(HMACSHA256.HashData(Encoding.UTF8.GetBytes(TestPepper.Value), keyBytes), row.Hash);
        Assert.Equal(apiKey[..16], row.Prefix);
        Assert.Equal(apiKey[4..16], row.LookupId);
        Assert.DoesNotContain(apiKey[17..], row.Name + row.Prefix + row.LookupId, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(IdentityKind.Tenant)]
    [InlineData(IdentityKind.Admin)]
    public async Task Only_the_service_identity_may_verify_keys(IdentityKind kind)
    {
        var tenant = await fixture.CreateTenantAsync("Verifier");

        using var response = await fixture.Factory.CreateClientFor(tenant.Id, kind)
            .PostAsJsonAsync("/internal/keys/verify", new { apiKey = tenant.ApiKey });

        await Json.AssertProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Malformed_and_tampered_keys_are_404()
    {
        var tenant = await fixture.CreateTenantAsync("Tamper");
        var key = tenant.ApiKey;
        var flippedSecret = key[..^1] + (key[^1] == 'A' ? 'B' : 'A');
        var otherLookup = key[..4] + (key[4] == '0' ? '1' : '0') + key[5..];
        string[] candidates = [flippedSecret, otherLookup, key + "x", key[..^1], key.ToUpperInvariant(), "sfk_", "Bearer " + key, new string('x', 60)];

        foreach (var candidate in candidates)
        {
            using var response = await fixture.VerifyAsync(candidate);
            var problem = await Json.AssertProblemAsync(response, HttpStatusCode.NotFound);
            Assert.DoesNotContain(candidate, problem.GetRawText(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Verification_without_a_key_is_400()
    {
        using var response = await fixture.Edge.PostAsJsonAsync("/internal/keys/verify", new { apiKey = "" });

        await Json.AssertValidationProblemAsync(response, "apiKey");
    }

    private static string ToBase64(string base64Url)
    {
        var padded = base64Url.Replace('-', '+').Replace('_', '/');
        return padded + new string('=', (4 - padded.Length % 4) % 4);
    }
}
