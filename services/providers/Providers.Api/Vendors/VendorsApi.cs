using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace StitchFin.Providers.Vendors;

/// <summary>
/// The simulated vendors' HTTP API. It stands in for third-party services, so it is anonymous like one, and
/// the adapters reach it over real HTTP, faults included. The edge never routes here.
/// </summary>
public static class VendorsApi
{
    public static RouteGroupBuilder MapVendorsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/vendors").WithTags("Simulated vendors").AllowAnonymous();
        group.MapPost("/{vendor}/complete", Complete);
        return group;
    }

    public static async Task<Results<Ok<VendorCompletionResponse>, JsonHttpResult<VendorRateLimitedResponse>, JsonHttpResult<VendorErrorResponse>, ValidationProblem, NotFound>> Complete(
        string vendor,
        VendorCompletionRequest request,
        VendorSimulators simulators,
        HttpResponse response,
        CancellationToken cancellationToken)
    {
        if (simulators.Find(vendor) is not { } simulator)
        {
            return TypedResults.NotFound();
        }

        if (string.IsNullOrEmpty(request.Content))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["content"] = ["content must not be empty."] });
        }

        var reply = await simulator.CompleteAsync(request.SystemPrompt ?? "", request.Content, cancellationToken);
        if (reply.Completion is { } completion)
        {
            return TypedResults.Ok(completion);
        }

        if (reply.RetryAfterMs is { } retryAfterMs)
        {
            // The header carries whole seconds (RFC 9110); the body carries the precise value.
            response.Headers.RetryAfter = ((retryAfterMs + 999) / 1000).ToString(CultureInfo.InvariantCulture);
            return TypedResults.Json(new VendorRateLimitedResponse(retryAfterMs), statusCode: reply.Status);
        }

        return TypedResults.Json(new VendorErrorResponse("The vendor failed to complete the request."), statusCode: reply.Status);
    }
}
