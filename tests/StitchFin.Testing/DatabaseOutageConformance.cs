using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Npgsql;
using StitchFin.ServiceDefaults.Identity;
using Xunit;

namespace StitchFin.Testing;

/// <summary>A request a database outage test sends: who sends it, and what.</summary>
public sealed record OutageRoute(HttpMethod Method, string Path, object? Body = null, IdentityKind Identity = IdentityKind.Tenant);

/// <summary>
/// What every service with a database promises when the database goes away (a crash, a restart): every route
/// answers <c>503</c> with <c>Retry-After</c> within seconds, names nothing internal, and the service recovers on
/// its own when the database is back. The service reaches its database through a <see cref="TcpRelay"/> the test cuts.
/// </summary>
public abstract class DatabaseOutageConformance<TProgram> : ServiceUnderTest<TProgram>
    where TProgram : class
{
    /// <summary>Retries inside a request stop well before this; a client is never held longer.</summary>
    private static readonly TimeSpan LongestAnswer = TimeSpan.FromSeconds(15);

    private TcpRelay? _relay;

    /// <summary>Routes of every kind the service has (reads, writes, the hot path); each must answer 503 in an outage.</summary>
    protected abstract IReadOnlyList<OutageRoute> Routes { get; }

    protected override IDictionary<string, string?> Configure(TestInfrastructure infrastructure)
    {
        var database = new NpgsqlConnectionStringBuilder(infrastructure.PostgresConnectionString);
        _relay = TcpRelay.Start(database.Host!, database.Port);
        var configuration = infrastructure.Configuration;
        configuration["ConnectionStrings:Database"] = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = _relay.Port }.ConnectionString;
        return configuration;
    }

    protected override ValueTask DisposeInfrastructureAsync() => _relay?.DisposeAsync() ?? ValueTask.CompletedTask;

    [Fact]
    public async Task Every_route_answers_503_with_retry_after_while_the_database_is_down_and_recovers_after()
    {
        var tenantId = Guid.NewGuid();
        // Pooled connections exist before the outage, so it also resets connections the service holds.
        Assert.NotEqual(HttpStatusCode.ServiceUnavailable, (await SendAsync(Routes[0], tenantId)).Status);

        _relay!.Cut();
        foreach (var route in Routes)
        {
            var clock = Stopwatch.StartNew();
            var (status, retryAfter, mediaType, body) = await SendAsync(route, tenantId);

            Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{route.Method} {route.Path}: {(int)status} {body}");
            Assert.Equal("2", retryAfter);
            // The agent APIs answer in their SDKs' error shape; every other route with a problem.
            Assert.Equal(route.Path.StartsWith("/v1/", StringComparison.Ordinal) ? "application/json" : "application/problem+json", mediaType);
            Assert.Contains(route.Path.StartsWith("/v1/", StringComparison.Ordinal) ? "\"error\"" : "\"status\":503", body, StringComparison.Ordinal);
            Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
            Assert.DoesNotContain("Npgsql", body, StringComparison.Ordinal);
            Assert.True(clock.Elapsed < LongestAnswer, $"{route.Method} {route.Path} held the client {clock.Elapsed}");
        }

        _relay.Restore();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpStatusCode after;
        while ((after = (await SendAsync(Routes[0], tenantId)).Status) == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True((int)after < 500, $"{Routes[0].Method} {Routes[0].Path} after the database returned: {(int)after}");
    }

    private async Task<(HttpStatusCode Status, string? RetryAfter, string? MediaType, string Body)> SendAsync(OutageRoute route, Guid tenantId)
    {
        using var client = Factory.CreateClientFor(tenantId, route.Identity);
        using var request = new HttpRequestMessage(route.Method, route.Path) { Content = route.Body is null ? null : JsonContent.Create(route.Body) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await client.SendAsync(request);
        return (response.StatusCode, response.Headers.RetryAfter?.ToString(), response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }
}
