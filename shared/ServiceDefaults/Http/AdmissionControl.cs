using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
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

    /// <summary>How long a request may wait for a permit before it is answered 503 (its client would soon give up).</summary>
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>What a refused client is told to wait.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Admission control for every service (health endpoints excepted): a concurrency limit with a short queue. A request
/// beyond both, or one that waited <see cref="AdmissionOptions.MaxQueueWait"/>, is answered <c>503</c> with
/// <c>Retry-After</c> before any work; one whose client went away while it waited is never started.
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
            return new AdmissionLimiter(new ConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = options.PermitLimit,
                QueueLimit = options.QueueLimit,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            }));
        });
        return builder;
    }

    public static IApplicationBuilder UseAdmissionControl(this IApplicationBuilder app)
    {
        var limiter = app.ApplicationServices.GetRequiredService<AdmissionLimiter>().Limiter;
        var options = app.ApplicationServices.GetRequiredService<IOptions<AdmissionOptions>>().Value;
        var retryAfter = ((int)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/health"))
            {
                await next(context);
                return;
            }

            // Most requests find a permit at once, without a queue wait or a timer.
            using var immediate = limiter.AttemptAcquire();
            if (immediate.IsAcquired)
            {
                await next(context);
                return;
            }

            using var waited = new CancellationTokenSource(options.MaxQueueWait);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(waited.Token, context.RequestAborted);
            RateLimitLease lease;
            try
            {
                lease = await limiter.AcquireAsync(1, either.Token);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away while its request waited: nothing was started, and no one is listening.
                return;
            }
            catch (OperationCanceledException)
            {
                await RefuseAsync(context, retryAfter, "The service is at capacity and the request waited too long; retry it.");
                return;
            }

            using (lease)
            {
                if (lease.IsAcquired)
                {
                    await next(context);
                    return;
                }
            }

            await RefuseAsync(context, retryAfter, "The service is at capacity; retry it.");
        });
    }

    private static async Task RefuseAsync(HttpContext context, string retryAfter, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = retryAfter;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service unavailable",
                Type = ProblemTypes.Prefix + "overloaded",
                Detail = detail,
            },
        });
    }
}

/// <summary>The one limiter of a service (a type of its own, so nothing else resolves it by accident).</summary>
public sealed record AdmissionLimiter(ConcurrencyLimiter Limiter);
