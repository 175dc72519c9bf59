using System.Net.Http.Json;
using System.Text.Json;
using StitchFin.Providers.Vendors;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Providers.Adapters;

/// <summary>
/// Speaks the simulated vendors' wire format over a typed <see cref="HttpClient"/> whose base address is the
/// vendor's <c>BaseUrl</c>, and maps what comes back to attempt outcomes.
/// </summary>
public abstract class SimulatedVendorAdapter(HttpClient http) : IProviderAdapter
{
    public abstract string Name { get; }

    public async Task<ProviderCallResult> CompleteAsync(NormalizedRequest request, CancellationToken cancellationToken)
    {
        var body = new VendorCompletionRequest(request.SystemPrompt, request.UserContent, request.TenantId.ToString(), request.RequestId);
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsJsonAsync("complete", body, JsonDefaults.JsonOptions, cancellationToken);
        }
        catch (HttpRequestException)
        {
            return ProviderCallResult.Error(null);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            try
            {
                if (response.IsSuccessStatusCode)
                {
                    var completion = await response.Content.ReadFromJsonAsync<VendorCompletionResponse>(JsonDefaults.JsonOptions, cancellationToken);
                    return completion is { Text: not null }
                        ? ProviderCallResult.Success(new NormalizedResponse(Name, completion.Text, completion.TokensIn, completion.TokensOut, completion.LatencyMs), status)
                        : ProviderCallResult.Error(status);
                }

                if (status == StatusCodes.Status429TooManyRequests)
                {
                    return ProviderCallResult.RateLimited(status, await RetryAfterAsync(response, cancellationToken));
                }
            }
            catch (JsonException)
            {
                return ProviderCallResult.Error(status);
            }
            catch (HttpRequestException)
            {
                return ProviderCallResult.Error(status);
            }

            return ProviderCallResult.Error(status);
        }
    }

    /// <summary>The body's millisecond value when present, else the header's whole seconds.</summary>
    private static async Task<TimeSpan?> RetryAfterAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var body = await response.Content.ReadFromJsonAsync<VendorRateLimitedResponse>(JsonDefaults.JsonOptions, cancellationToken);
            if (body is { RetryAfterMs: >= 0 })
            {
                return TimeSpan.FromMilliseconds(body.RetryAfterMs);
            }
        }
        catch (JsonException)
        {
            // A rate-limit answer without the JSON body still has the header to go by.
        }

        return response.Headers.RetryAfter?.Delta;
    }
}
