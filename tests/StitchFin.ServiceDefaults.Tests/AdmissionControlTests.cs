using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StitchFin.ServiceDefaults.Http;

namespace StitchFin.ServiceDefaults.Tests;

/// <summary>
/// A real server with admission control: <see cref="PermitLimit"/> requests at work, one waiting, and 1,000 bytes of
/// request bodies held at once. Its <c>/work</c> requests wait for <see cref="_release"/>.
/// </summary>
public abstract class AdmissionServer : IAsyncLifetime
{
    protected abstract int PermitLimit { get; }

    protected readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    protected WebApplication _app = null!;
    protected HttpClient _client = null!;
    protected int _started;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration["Admission:PermitLimit"] = PermitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Configuration["Admission:QueueLimit"] = "1";
        builder.Configuration["Admission:MaxQueueWait"] = "00:05:00";
        builder.Configuration["Admission:BodyBytesLimit"] = "1000";
        builder.Configuration["Admission:UndeclaredBodyBytes"] = "300";
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
        _app.MapPost("/work", async (HttpRequest request) =>
        {
            Interlocked.Increment(ref _started);
            await _release.Task;
            using var reader = new StreamReader(request.Body);
            return (await reader.ReadToEndAsync()).Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
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

    protected AdmissionLimiter Limiter => _app.Services.GetRequiredService<AdmissionLimiter>();

    protected static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}

/// <summary>Admission control at a bound of one request at work and one waiting.</summary>
public sealed class AdmissionControlTests : AdmissionServer
{
    protected override int PermitLimit => 1;

    [Fact]
    public async Task Beyond_the_bound_a_request_is_answered_503_with_retry_after_at_once_and_health_still_answers()
    {
        var working = _client.GetAsync("/work");
        await WaitUntilAsync(() => Volatile.Read(ref _started) == 1);
        var queued = _client.GetAsync("/work");
        await WaitUntilAsync(() => Limiter.Limiter.GetStatistics()?.CurrentQueuedCount == 1);

        // A caller that accepts only a stream still gets the problem document, not a 500 for want of a writer.
        using var streamRequest = new HttpRequestMessage(HttpMethod.Get, "/work");
        streamRequest.Headers.Accept.ParseAdd("text/event-stream");
        using var refused = await _client.SendAsync(streamRequest);

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
}


/// <summary>The same server with request permits to spare, so only the budget of body bytes (1,000) refuses.</summary>
public sealed class AdmissionBodyBudgetTests : AdmissionServer
{
    protected override int PermitLimit => 8;

    [Fact]
    public async Task A_body_that_does_not_fit_beside_the_bodies_held_is_answered_503_at_once()
    {
        var holding = _client.PostAsync("/work", new StringContent(new string('a', 600)));
        await WaitUntilAsync(() => Volatile.Read(ref _started) == 1);

        // 600 of the 1,000 bytes are held: 600 more do not fit, though a request permit is free.
        using var refused = await _client.PostAsync("/work", new StringContent(new string('b', 600)));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
        Assert.Equal(1, _started);

        // A body of undeclared length counts as 300 bytes, whatever it turns out to be: one fits, a second does not.
        var chunked = PostChunkedAsync(new string('c', 2000));
        await WaitUntilAsync(() => Volatile.Read(ref _started) == 2);
        using var refusedChunked = await PostChunkedAsync("d");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refusedChunked.StatusCode);

        _release.SetResult();
        Assert.Equal("600", await (await holding).Content.ReadAsStringAsync());
        Assert.Equal("2000", await (await chunked).Content.ReadAsStringAsync());

        // The bytes come back with the answers.
        using var later = await _client.PostAsync("/work", new StringContent(new string('e', 1000)));
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    private async Task<HttpResponseMessage> PostChunkedAsync(string text)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/work") { Content = new StringContent(text) };
        request.Headers.TransferEncodingChunked = true;
        return await _client.SendAsync(request);
    }
}
