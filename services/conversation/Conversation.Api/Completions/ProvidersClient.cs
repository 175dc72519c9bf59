using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Completions;

public sealed class ProvidersClientOptions
{
    public const string SectionName = "ProvidersClient";

    /// <summary>
    /// Longer than the providers service's own deadline for one completion (retries and fallback included), so
    /// providers, not this client, decides when a completion has failed. There is no retry here: providers retries.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(25);
}

/// <summary>Typed client for the providers service's <c>POST /internal/completions</c>.</summary>
public sealed class ProvidersClient(HttpClient http)
{
    public const string DefaultBaseAddress = "http://127.0.0.1:5103/";

    public async Task<CompletionOutcome> CompleteAsync(CompletionRequest request, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.PostAsJsonAsync("internal/completions", request, JsonDefaults.JsonOptions, cancellationToken);
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    var result = await response.Content.ReadFromJsonAsync<CompletionResult>(JsonDefaults.JsonOptions, cancellationToken);
                    return result is null
                        ? new CompletionOutcome.ProvidersUnavailable("Providers answered 200 without a completion.")
                        : new CompletionOutcome.Succeeded(result);
                case HttpStatusCode.BadGateway:
                    var failed = await response.Content.ReadFromJsonAsync<CompletionFailed>(JsonDefaults.JsonOptions, cancellationToken);
                    return new CompletionOutcome.AllAttemptsFailed(failed?.Detail, failed?.Attempts ?? []);
                default:
                    return new CompletionOutcome.ProvidersUnavailable($"Providers answered {(int)response.StatusCode}.");
            }
        }
        catch (HttpRequestException ex)
        {
            return new CompletionOutcome.ProvidersUnavailable($"Providers could not be reached: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new CompletionOutcome.ProvidersUnavailable($"Providers did not answer within {http.Timeout.TotalSeconds:0} s.");
        }
        catch (JsonException ex)
        {
            return new CompletionOutcome.ProvidersUnavailable($"Providers answered unreadable JSON: {ex.Message}");
        }
    }
}
