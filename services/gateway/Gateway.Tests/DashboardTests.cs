using System.Net;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class DashboardTests(GatewayFixture fixture) : IDisposable
{
    private const string IndexHtml = "<!doctype html><title>StitchFin</title><div id=root></div>";
    private readonly string _dist = Directory.CreateTempSubdirectory("stitchfin-dist-").FullName;

    [Fact]
    public async Task The_built_dashboard_is_served_with_spa_fallback_while_api_routes_win()
    {
        Directory.CreateDirectory(Path.Combine(_dist, "assets"));
        await File.WriteAllTextAsync(Path.Combine(_dist, "index.html"), IndexHtml);
        await File.WriteAllTextAsync(Path.Combine(_dist, "assets", "app.js"), "console.log('app')");
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?> { ["Edge:DashboardPath"] = _dist });
        var client = gateway.CreateClient();

        foreach (var path in new[] { "/", "/app", "/app/agents/7d1a0c9e-52a4-4a55-9d0c-2f1b0a8b6d11" })
        {
            using var page = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Equal(IndexHtml, await page.Content.ReadAsStringAsync());
            AssertSecurityHeaders(page);
        }

        using var script = await client.GetAsync("/assets/app.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("console.log('app')", await script.Content.ReadAsStringAsync());
        AssertSecurityHeaders(script);

        await ProblemAssert.IsProblemAsync(await client.GetAsync("/agents"), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/internal/keys"), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/assets/missing.js"), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await client.PostAsync("/app/agents", null), HttpStatusCode.NotFound);
        using var health = await client.GetAsync("/health");
        Assert.Equal("application/json", health.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Without_a_built_dashboard_unknown_paths_stay_404_problems()
    {
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?> { ["Edge:DashboardPath"] = Path.Combine(_dist, "missing") });
        await ProblemAssert.IsProblemAsync(await gateway.CreateClient().GetAsync("/"), HttpStatusCode.NotFound);
    }

    public void Dispose() => Directory.Delete(_dist, recursive: true);

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        var policy = string.Join(", ", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self';", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
    }
}
