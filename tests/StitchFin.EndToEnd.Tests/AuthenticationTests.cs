using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.EndToEnd.Tests;

[Collection(SystemCollection.Name)]
public sealed class AuthenticationTests(StitchFinSystem system)
{
    [Theory]
    [InlineData(null)]
    [InlineData("sfk_unknownlook_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not-a-key")]
    public async Task Missing_or_unknown_key_is_401_problem(string? key)
    {
        using var client = system.CreateClient(key);
        using var response = await client.GetAsync("/agents");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Bearer_key_is_accepted()
    {
        var tenant = await Tenant.CreateAsync(system);
        using var client = system.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);
        using var response = await client.GetAsync("/tenants/me");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(tenant.Id, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<Guid>());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-admin-key")]
    public async Task Creating_a_tenant_needs_the_admin_key(string? adminKey)
    {
        using var client = system.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/tenants") { Content = JsonContent.Create(new { name = "Mallory" }) };
        if (adminKey is not null)
        {
            request.Headers.Add("X-Admin-Key", adminKey);
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Revoked_key_is_refused_within_two_seconds()
    {
        var tenant = await Tenant.CreateAsync(system);
        var second = await tenant.ExpectAsync(HttpMethod.Post, "/keys", HttpStatusCode.Created, new { name = "ci" });
        using var secondClient = system.CreateClient(second["apiKey"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await secondClient.GetAsync("/tenants/me")).StatusCode);

        await tenant.ExpectAsync(HttpMethod.Delete, $"/keys/{second["id"]}", HttpStatusCode.NoContent);
        var clock = Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            status = (await secondClient.GetAsync("/tenants/me")).StatusCode;
        }
        while (status != HttpStatusCode.Unauthorized && clock.Elapsed < TimeSpan.FromSeconds(2) && await Pause());

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync("/tenants/me")).StatusCode);
    }

    [Fact]
    public async Task Revoking_the_key_used_for_the_call_is_allowed()
    {
        var tenant = await Tenant.CreateAsync(system);
        var keys = await tenant.ExpectAsync(HttpMethod.Get, "/keys", HttpStatusCode.OK);
        var own = keys.AsArray().Single()!["id"]!.GetValue<Guid>();
        await tenant.ExpectAsync(HttpMethod.Delete, $"/keys/{own}", HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Client_sent_identity_headers_are_ignored()
    {
        var victim = await Tenant.CreateAsync(system, "Victim");
        var attacker = await Tenant.CreateAsync(system, "Attacker");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/tenants/me");
        request.Headers.Add("X-Tenant-Id", victim.Id.ToString());
        request.Headers.Add("X-StitchFin-Identity", $"v2.t.{victim.Id:N}.r1.{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}.gateway.forged");
        using var response = await attacker.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(attacker.Id, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<Guid>());
    }

    [Theory]
    [InlineData("tenancy", "/tenants/me")]
    [InlineData("conversation", "/agents")]
    [InlineData("metering", "/usage?from=2026-01-01&to=2026-01-02")]
    public async Task Internal_service_called_directly_with_forged_identity_is_401(string service, string path)
    {
        using var http = new HttpClient { BaseAddress = system.ServiceUrl(service) };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Tenant-Id", Guid.NewGuid().ToString());
        request.Headers.Add("X-StitchFin-Identity", $"v2.t.{Guid.NewGuid():N}.r1.{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}.gateway.AAAA");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_identity_signed_for_one_call_to_conversation_is_refused_by_every_other_service_method_and_path()
    {
        var tenant = await Tenant.CreateAsync(system, "Replayed");
        // What the edge sends conversation for GET /agents, as an attacker inside the network could capture it.
        var edge = new InternalIdentitySigner(
            Options.Create(new InternalIdentityOptions { SigningKey = TestInfrastructure.SigningKey }), TimeProvider.System, new ServiceName("gateway"));
        var captured = edge.Sign(IdentityKind.Tenant, tenant.Id, "r1", new InternalCall("conversation", "GET", "/agents"));

        Assert.Equal(HttpStatusCode.OK, await ReplayAsync("conversation", HttpMethod.Get, "/agents"));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReplayAsync("conversation", HttpMethod.Post, "/agents"));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReplayAsync("conversation", HttpMethod.Get, "/sessions"));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReplayAsync("tenancy", HttpMethod.Get, "/keys"));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReplayAsync("metering", HttpMethod.Get, "/usage?from=2026-01-01&to=2026-01-02"));

        async Task<HttpStatusCode> ReplayAsync(string service, HttpMethod method, string path)
        {
            using var http = new HttpClient { BaseAddress = system.ServiceUrl(service) };
            using var request = new HttpRequestMessage(method, path)
            {
                Content = method == HttpMethod.Post ? JsonContent.Create(new { name = "Planted", systemPrompt = "x", primaryProvider = "VendorA" }) : null,
            };
            request.Headers.Add(InternalIdentitySigner.HeaderName, captured);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
    }

    [Fact]
    public async Task Only_the_edge_can_sign_a_tenant_identity_and_a_sibling_signs_only_as_itself()
    {
        var tenant = await Tenant.CreateAsync(system, "Siblings");
        // Signers holding only the key each sibling is started with (derived from the root as run.sh derives it).
        var voice = SignerHolding("voice", "conversation");
        var conversation = SignerHolding("conversation", "providers");

        // A sibling's key cannot speak for a tenant: only the edge holds the keys that can.
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync("conversation", "/agents", voice, IdentityKind.Tenant));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync("providers", "/providers", conversation, IdentityKind.Tenant));
        // Its service identity reaches only the routes siblings call.
        Assert.Equal(HttpStatusCode.Forbidden, await CallAsync("conversation", "/agents", voice, IdentityKind.Service));
        Assert.Equal(HttpStatusCode.OK, await CallAsync("providers", "/providers", conversation, IdentityKind.Service));
        // And a sibling has no key for any other service: tenancy and metering know no issuer but the edge.
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync("tenancy", "/keys", SignerHolding("voice", "tenancy"), IdentityKind.Service));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync("metering", "/usage?from=2026-01-01&to=2026-01-02", SignerHolding("conversation", "metering"), IdentityKind.Service));

        InternalIdentitySigner SignerHolding(string issuer, string audience) => new(
            Options.Create(new InternalIdentityOptions
            {
                Keys = new() { [issuer] = new() { [audience] = InternalIdentityKeys.Derive(TestInfrastructure.SigningKey, issuer, audience) } },
            }),
            TimeProvider.System,
            new ServiceName(issuer));

        async Task<HttpStatusCode> CallAsync(string service, string path, InternalIdentitySigner signer, IdentityKind kind)
        {
            using var http = new HttpClient { BaseAddress = system.ServiceUrl(service) };
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            var call = new InternalCall(service, "GET", path.Split('?')[0]);
            request.Headers.Add(InternalIdentitySigner.HeaderName, signer.Sign(kind, tenant.Id, "r1", call));
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
    }

    [Theory]
    [InlineData("gateway", "gateway:tenancy gateway:conversation gateway:providers gateway:voice gateway:metering")]
    [InlineData("tenancy", "gateway:tenancy")]
    [InlineData("conversation", "gateway:conversation voice:conversation conversation:providers")]
    [InlineData("providers", "gateway:providers conversation:providers")]
    [InlineData("voice", "gateway:voice voice:conversation")]
    [InlineData("metering", "gateway:metering")]
    public void Each_running_service_holds_only_the_identity_keys_of_its_own_calls_and_no_other_secret(string service, string expected)
    {
        var pid = int.Parse(File.ReadAllText(Path.Combine(system.RunDirectory, $"{service}.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var environment = File.ReadAllText($"/proc/{pid}/environ").Split('\0');

        Assert.DoesNotContain(environment, variable => variable.StartsWith("Identity__SigningKey=", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(environment, variable => variable.Contains(TestInfrastructure.SigningKey, StringComparison.Ordinal));
        var held = environment.Where(variable => variable.StartsWith("Identity__Keys__", StringComparison.Ordinal))
            .Select(variable => variable.Split('=')[0]["Identity__Keys__".Length..].Replace("__", ":", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected.Split(' ').Order(StringComparer.Ordinal), held);
        // The other secrets likewise live only where they are used.
        Assert.Equal(service == "gateway", environment.Any(variable => variable.StartsWith("Edge__AdminKey=", StringComparison.Ordinal)));
        Assert.Equal(service == "tenancy", environment.Any(variable => variable.StartsWith("ApiKeys__Pepper=", StringComparison.Ordinal)));
        Assert.DoesNotContain(environment, variable => variable.StartsWith("STITCHFIN_ADMIN_KEY=", StringComparison.Ordinal)
            || variable.StartsWith("STITCHFIN_KEY_PEPPER=", StringComparison.Ordinal) || variable.StartsWith("STITCHFIN_IDENTITY_", StringComparison.Ordinal));
    }

    private static async Task<bool> Pause()
    {
        await Task.Delay(50);
        return true;
    }
}
