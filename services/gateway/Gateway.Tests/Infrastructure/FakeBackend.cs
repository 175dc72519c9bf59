using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StitchFin.Contracts.Tenancy;

namespace StitchFin.Gateway.Tests.Infrastructure;

/// <summary>What a request looked like when it reached the backend.</summary>
public sealed record EchoedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, long BodyLength);

/// <summary>A tenant's key as tenancy knows it.</summary>
public sealed record TestKey(string ApiKey, Guid TenantId, Guid KeyId);

/// <summary>
/// A small real HTTP backend standing in for every service behind the edge: tenancy's key verification with
/// known keys, readiness, and an echo of the headers it received for any other path.
/// </summary>
public sealed class FakeBackend : IAsyncDisposable
{
    /// <summary>A key for which tenancy answers 500, as when its database is down.</summary>
    public const string FailingKey = "sk_test_tenancy_fails";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, TestKey> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _revoked = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _failing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _verifyCalls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _heldVerifications = new(StringComparer.Ordinal);

    private FakeBackend(WebApplication app)
    {
        _app = app;
        app.MapPost("/internal/keys/verify", VerifyAsync);
        app.MapGet("/health/ready", () =>
        {
            Interlocked.Increment(ref _readinessChecks);
            return Results.Ok(new { status = "ok" });
        });
        // Lowest precedence: every path the routes above do not match is echoed.
        app.Map("/{**path}", EchoAsync);
    }

    public string Address { get; private set; } = "";

    private int _readinessChecks;

    public ConcurrentQueue<EchoedRequest> Received { get; } = new();

    /// <summary>How many times anything asked this backend's <c>/health/ready</c>.</summary>
    public int ReadinessChecks => Volatile.Read(ref _readinessChecks);

    /// <summary>The identity headers tenancy's verify endpoint received.</summary>
    public ConcurrentQueue<string> VerifyIdentities { get; } = new();

    public static async Task<FakeBackend> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var backend = new FakeBackend(builder.Build());
        await backend._app.StartAsync();
        backend.Address = backend._app.Urls.Single().TrimEnd('/') + "/";
        return backend;
    }

    public TestKey AddKey(Guid? tenantId = null)
    {
        var key = new TestKey($"sk_test_{Guid.NewGuid():N}", tenantId ?? Guid.NewGuid(), Guid.NewGuid());
        _keys[key.ApiKey] = key;
        return key;
    }

    /// <summary>Tenancy refuses the key from now on (the edge learns it from an event or when its cache expires).</summary>
    public void Revoke(TestKey key) => _revoked[key.ApiKey] = true;

    /// <summary>Tenancy answers 500 for the key from now on, as for <see cref="FailingKey"/>.</summary>
    public void FailVerification(TestKey key) => _failing[key.ApiKey] = true;

    public int VerifyCalls(string apiKey) => _verifyCalls.GetValueOrDefault(apiKey);

    /// <summary>Verification of this key waits until the returned source is completed.</summary>
    public TaskCompletionSource HoldVerification(string apiKey) =>
        _heldVerifications.GetOrAdd(apiKey, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public IReadOnlyList<EchoedRequest> ReceivedFor(string pathPrefix) =>
        Received.Where(r => r.Path.StartsWith(pathPrefix, StringComparison.Ordinal)).ToList();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<IResult> VerifyAsync(HttpContext context, VerifyApiKeyRequest request)
    {
        VerifyIdentities.Enqueue(context.Request.Headers["X-StitchFin-Identity"].ToString());
        _verifyCalls.AddOrUpdate(request.ApiKey, 1, (_, calls) => calls + 1);
        if (_heldVerifications.TryGetValue(request.ApiKey, out var hold))
        {
            await hold.Task;
        }

        if (request.ApiKey == FailingKey || _failing.ContainsKey(request.ApiKey))
        {
            return Results.StatusCode(StatusCodes.Status500InternalServerError);
        }

        return _keys.TryGetValue(request.ApiKey, out var key) && !_revoked.ContainsKey(request.ApiKey)
            ? Results.Ok(new VerifiedApiKey(key.TenantId, key.KeyId))
            : Results.NotFound();
    }

    private async Task EchoAsync(HttpContext context)
    {
        long bodyLength = 0;
        var buffer = new byte[81920];
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            bodyLength += read;
        }

        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var echoed = new EchoedRequest(context.Request.Method, context.Request.Path.Value ?? "", headers, bodyLength);
        Received.Enqueue(echoed);
        context.Response.StatusCode = (int)HttpStatusCode.OK;
        await context.Response.WriteAsJsonAsync(echoed);
    }
}
