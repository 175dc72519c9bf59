using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using StitchFin.ServiceDefaults.Identity;
using Xunit;

namespace StitchFin.Testing;

/// <summary>
/// What every internal service promises, checked against real infrastructure: health endpoints answer, and a
/// protected endpoint refuses calls that are unsigned, forged, stale or signed for the wrong kind of caller.
/// </summary>
public abstract class InternalServiceConformance<TProgram> : ServiceUnderTest<TProgram>
    where TProgram : class
{
    /// <summary>A GET endpoint that needs a tenant identity.</summary>
    protected abstract string ProtectedPath { get; }

    /// <summary>Names the readiness report must contain as healthy (for example "database", "masstransit-bus").</summary>
    protected abstract IReadOnlyList<string> ReadinessChecks { get; }

    [Fact]
    public async Task Live_answers_ok()
    {
        using var response = await Factory.CreateClient().GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ready_reports_its_dependencies_healthy()
    {
        var client = Factory.CreateClient();
        HttpResponseMessage? response = null;
        // The bus connects in the background after start; readiness turns healthy once it has.
        for (var attempt = 0; attempt < 60; attempt++)
        {
            response?.Dispose();
            response = await client.GetAsync("/health/ready");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            await Task.Delay(250);
        }

        var body = await response!.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var checks = json.RootElement.GetProperty("checks");
        foreach (var name in ReadinessChecks)
        {
            Assert.True(checks.TryGetProperty(name, out var status), $"readiness lacks {name}: {body}");
            Assert.Equal("healthy", status.GetString());
        }
    }

    [Fact]
    public async Task Unsigned_call_is_401_problem()
    {
        using var response = await Factory.CreateClient().GetAsync(ProtectedPath);
        await AssertUnauthorizedProblem(response);
    }

    [Fact]
    public async Task Forged_identity_is_401()
    {
        var client = Factory.CreateClient();
        var genuine = Factory.SignFor(HttpMethod.Get, ProtectedPathOnly, Guid.NewGuid());
        // Same payload shape for another tenant, with the genuine signature pasted on.
        var parts = genuine.Split('.');
        parts[2] = Guid.NewGuid().ToString("N");
        client.DefaultRequestHeaders.Add(InternalIdentitySigner.HeaderName, string.Join('.', parts));
        client.DefaultRequestHeaders.Add("X-Tenant-Id", Guid.NewGuid().ToString());
        await AssertUnauthorizedProblem(await client.GetAsync(ProtectedPath));
    }

    [Fact]
    public async Task Identity_signed_for_another_service_is_401()
    {
        var forConversation = Factory.SignFor(HttpMethod.Get, ProtectedPathOnly, Guid.NewGuid(), audience: "another-service");
        await AssertUnauthorizedProblem(await SendWithIdentityAsync(forConversation));
    }

    [Fact]
    public async Task Identity_signed_for_another_method_or_path_is_401()
    {
        var tenantId = Guid.NewGuid();
        await AssertUnauthorizedProblem(await SendWithIdentityAsync(Factory.SignFor(HttpMethod.Post, ProtectedPathOnly, tenantId)));
        await AssertUnauthorizedProblem(await SendWithIdentityAsync(Factory.SignFor(HttpMethod.Get, ProtectedPathOnly + "/elsewhere", tenantId)));
    }

    [Fact]
    public async Task Expired_identity_is_503_with_retry_after_not_401()
    {
        // Genuine but 11 s old, as after waiting in a paused service: the caller's key is fine, so this is not a 401.
        var past = new FixedTime(DateTimeOffset.UtcNow.AddSeconds(-11));
        var signer = new InternalIdentitySigner(
            Microsoft.Extensions.Options.Options.Create(new InternalIdentityOptions { SigningKey = TestInfrastructure.SigningKey }), past,
            new ServiceName(InternalIdentitySigner.EdgeIssuer));
        using var response = await SendWithIdentityAsync(
            signer.Sign(IdentityKind.Tenant, Guid.NewGuid(), "r1", new InternalCall(Factory.Audience, "GET", ProtectedPathOnly)));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Identity_signed_with_another_key_is_401()
    {
        var signer = new InternalIdentitySigner(
            Microsoft.Extensions.Options.Options.Create(new InternalIdentityOptions { SigningKey = new string('x', 40) }), TimeProvider.System,
            new ServiceName(InternalIdentitySigner.EdgeIssuer));
        await AssertUnauthorizedProblem(await SendWithIdentityAsync(
            signer.Sign(IdentityKind.Tenant, Guid.NewGuid(), "r1", new InternalCall(Factory.Audience, "GET", ProtectedPathOnly))));
    }

    [Fact]
    public async Task A_tenant_identity_signed_by_a_sibling_service_is_401()
    {
        // A sibling's own key is genuine, but only the edge may speak for a tenant.
        var sibling = new InternalIdentitySigner(
            Microsoft.Extensions.Options.Options.Create(new InternalIdentityOptions { SigningKey = TestInfrastructure.SigningKey }), TimeProvider.System,
            new ServiceName("voice"));
        await AssertUnauthorizedProblem(await SendWithIdentityAsync(
            sibling.Sign(IdentityKind.Tenant, Guid.NewGuid(), "r1", new InternalCall(Factory.Audience, "GET", ProtectedPathOnly))));
    }

    [Fact]
    public async Task Signed_tenant_identity_passes_authentication()
    {
        using var response = await Factory.CreateClientFor(Guid.NewGuid()).GetAsync(ProtectedPath);
        Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.True((int)response.StatusCode < 500, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private string ProtectedPathOnly => ProtectedPath.Split('?')[0];

    private async Task<HttpResponseMessage> SendWithIdentityAsync(string identity)
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Add(InternalIdentitySigner.HeaderName, identity);
        return await client.GetAsync(ProtectedPath);
    }

    private static async Task AssertUnauthorizedProblem(HttpResponseMessage response)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(401, json.RootElement.GetProperty("status").GetInt32());
            Assert.True(json.RootElement.TryGetProperty("traceId", out _));
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
