using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StitchFin.ServiceDefaults.Http;

namespace StitchFin.ServiceDefaults.Tests;

/// <summary>Admission control on a real server, at a bound of one request at work and one waiting.</summary>
public sealed class AdmissionControlTests : IAsyncLifetime
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private int _started;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration["Admission:PermitLimit"] = "1";
        builder.Configuration["Admission:QueueLimit"] = "1";
        builder.Configuration["Admission:MaxQueueWait"] = "00:05:00";
        builder.Services.AddProblemDetails();
        builder.AddAdmissionControl();
        _app = builder.Build();
        _app.UseAdmissionControl();
        _app.MapGet("/health/ready", () => "ok");
        _app.MapGet("/work", async () =>
        {
            Interlocked.Increment(ref _started);
            await _release.Task;
            return "done";
        });
        await _app.StartAsync();
        _client = new HttpClient { BaseAddress = new Uri(_app.Urls.Single()), Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        _client.Dispose();
        await _app.DisposeAsync();
    }

    private AdmissionLimiter Limiter => _app.Services.GetRequiredService<AdmissionLimiter>();

    [Fact]
    public async Task Beyond_the_bound_a_request_is_answered_503_with_retry_after_at_once_and_health_still_answers()
    {
        var working = _client.GetAsync("/work");
        await WaitUntilAsync(() => Volatile.Read(ref _started) == 1);
        var queued = _client.GetAsync("/work");
        await WaitUntilAsync(() => Limiter.Limiter.GetStatistics()?.CurrentQueuedCount == 1);

        using var refused = await _client.GetAsync("/work");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        using (var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
        {
            Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
            // Its own type: the request was refused before any work, unlike a service's own 503.
            Assert.Equal("urn:stitchfin:problem:overloaded", problem.RootElement.GetProperty("type").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/ready")).StatusCode);
        _release.SetResult();
        Assert.Equal(HttpStatusCode.OK, (await working).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await queued).StatusCode);
        Assert.Equal(2, _started);
    }

    [Fact]
    public async Task A_waiting_request_whose_client_went_away_is_never_started()
    {
        var working = _client.GetAsync("/work");
        await WaitUntilAsync(() => Volatile.Read(ref _started) == 1);
        using var gaveUp = new CancellationTokenSource();
        var abandoned = _client.GetAsync("/work", gaveUp.Token);
        await WaitUntilAsync(() => Limiter.Limiter.GetStatistics()?.CurrentQueuedCount == 1);

        await gaveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await WaitUntilAsync(() => Limiter.Limiter.GetStatistics()?.CurrentQueuedCount == 0);
        _release.SetResult();
        Assert.Equal(HttpStatusCode.OK, (await working).StatusCode);

        // The permit is free again and the next request runs; the abandoned one never did.
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/work")).StatusCode);
        Assert.Equal(2, _started);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
