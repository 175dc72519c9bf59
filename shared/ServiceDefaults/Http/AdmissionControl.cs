using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace StitchFin.ServiceDefaults.Http;

/// <summary>How much work a service takes in at once; beyond it, requests are refused at once instead of piling up.</summary>
public sealed class AdmissionOptions
{
    public const string SectionName = "Admission";

    /// <summary>Requests processed at once.</summary>
    [Range(1, 100_000)]
    public int PermitLimit { get; set; } = 512;

    /// <summary>Requests waiting for a permit; one more is answered 503 at once.</summary>
    [Range(0, 100_000)]
    public int QueueLimit { get; set; } = 256;

    /// <summary>
    /// How long a request may wait for a permit before it is answered 503: long enough to smooth a burst, short enough
    /// that a refused client hears so at once (within 100 ms) instead of after the wait.
    /// </summary>
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Bytes of request bodies a service holds at once, by their declared lengths; a request whose body does not fit is
    /// answered 503 at once. 0: no budget, for a service that streams bodies on without holding them (the edge).
    /// </summary>
    [Range(0, int.MaxValue)]
    public int BodyBytesLimit { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// What a body sent without a declared length (chunked) counts for. Counting it as the largest body the server
    /// accepts would let one such request at a time in; its real bound is the size limit of the edge's route.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int UndeclaredBodyBytes { get; set; } = 64 * 1024;

    /// <summary>What a refused client is told to wait.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Admission control for every service (health endpoints excepted): a concurrency limit with a short queue. A request
/// beyond both, or one that waited <see cref="AdmissionOptions.MaxQueueWait"/>, is answered <c>503</c> with
/// <c>Retry-After</c> before any work; one whose client went away while it waited is never started. A budget of body
/// bytes bounds what the requests at work can hold in memory together.
/// </summary>
public static class AdmissionControl
{
    public static IHostApplicationBuilder AddAdmissionControl(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdmissionOptions>()
            .BindConfiguration(AdmissionOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.MaxQueueWait > TimeSpan.Zero && o.RetryAfter >= TimeSpan.FromSeconds(1),
                "Admission needs a positive MaxQueueWait and a RetryAfter of at least 1 s.")
            .ValidateOnStart();
        builder.Services.AddSingleton(services =>
        {
            var options = services.GetRequiredService<IOptions<AdmissionOptions>>().Value;
            var requests = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = options.PermitLimit,
                QueueLimit = options.QueueLimit,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
            var bodyBytes = options.BodyBytesLimit > 0
                ? new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = options.BodyBytesLimit, QueueLimit = 0 })
                : null;
            return new AdmissionLimiter(requests, bodyBytes);
        });
        return builder;
    }

    public static IApplicationBuilder UseAdmissionControl(this IApplicationBuilder app)
    {
        var admission = app.ApplicationServices.GetRequiredService<AdmissionLimiter>();
        var options = app.ApplicationServices.GetRequiredService<IOptions<AdmissionOptions>>().Value;
        var retryAfter = ((int)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/health") || context.GetEndpoint()?.Metadata.GetMetadata<AdmissionExempt>() is not null)
            {
                await next(context);
                return;
            }

            var (permit, refusal) = await AcquirePermitAsync(admission.Limiter, options.MaxQueueWait, context);
            using (permit)
            {
                if (refusal is not null)
                {
                    await RefuseAsync(context, retryAfter, refusal);
                    return;
                }

                if (permit is null)
                {
                    // The client went away while its request waited: nothing was started, and no one is listening.
                    return;
                }

                using var body = AcquireBody(admission.BodyBytes, options, context);
                if (body is { IsAcquired: false })
                {
                    await RefuseAsync(context, retryAfter, "The service holds as many request bodies as it may at once; retry it.");
                    return;
                }

                await next(context);
            }
        });
    }

    private static async ValueTask<(RateLimitLease? Permit, string? Refusal)> AcquirePermitAsync(ConcurrencyLimiter limiter, TimeSpan maxQueueWait, HttpContext context)
    {
        // Most requests find a permit at once, without a queue wait or a timer.
        var immediate = limiter.AttemptAcquire();
        if (immediate.IsAcquired)
        {
            return (immediate, null);
        }

        immediate.Dispose();
        using var waited = new CancellationTokenSource(maxQueueWait);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(waited.Token, context.RequestAborted);
        try
        {
            var lease = await limiter.AcquireAsync(1, either.Token);
            return (lease, lease.IsAcquired ? null : "The service is at capacity; retry it.");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return (null, null);
        }
        catch (OperationCanceledException)
        {
            return (null, "The service is at capacity and the request waited too long; retry it.");
        }
    }

    /// <summary>
    /// The bytes of the request's body from the body budget, without waiting: its declared length, or
    /// <see cref="AdmissionOptions.UndeclaredBodyBytes"/> when it has a body of undeclared length. Null when the budget
    /// is off or the request has no body.
    /// </summary>
    private static RateLimitLease? AcquireBody(ConcurrencyLimiter? budget, AdmissionOptions options, HttpContext context)
    {
        if (budget is null)
        {
            return null;
        }

        var bytes = context.Request.ContentLength
            ?? (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true ? options.UndeclaredBodyBytes : 0);
        // A body larger than the whole budget takes all of it (the server's own size limit answers 413 once it is read).
        return bytes > 0 ? budget.AttemptAcquire((int)Math.Min(bytes, options.BodyBytesLimit)) : null;
    }

    /// <summary>
    /// Leaves the endpoints out of admission control: for routes that stand in for another system, such as the simulated
    /// vendors the providers service calls over HTTP, whose requests would otherwise wait on the permits of the very
    /// requests that made them.
    /// </summary>
    public static TBuilder WithoutAdmissionControl<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(AdmissionExempt.Instance);

    // A problem result writes application/problem+json whatever the request accepts (a stream's caller accepts only
    // text/event-stream, which no problem writer serves).
    private static Task RefuseAsync(HttpContext context, string retryAfter, string detail)
    {
        context.Response.Headers.RetryAfter = retryAfter;
        return TypedResults.Problem(
            detail,
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Service unavailable",
            type: ProblemTypes.Prefix + "overloaded").ExecuteAsync(context);
    }
}

/// <summary>Marks an endpoint that admission control leaves alone.</summary>
public sealed class AdmissionExempt
{
    public static readonly AdmissionExempt Instance = new();

    private AdmissionExempt()
    {
    }
}

/// <summary>
/// The limiters of a service (a type of its own, so nothing else resolves it by accident): requests at work, and the
/// bytes of request bodies held at once (none when the service holds no bodies).
/// </summary>
public sealed record AdmissionLimiter(ConcurrencyLimiter Limiter, ConcurrencyLimiter? BodyBytes);
