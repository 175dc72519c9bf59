using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.Http;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Completions;

public sealed class ProvidersClientOptions
{
    public const string SectionName = "ProvidersClient";

    /// <summary>
    /// Longer than the providers service's own deadline for one completion (retries and fallback included, 30 s by
    /// default), so providers, not this client, decides when a completion has failed. There is no retry here:
    /// providers retries. Counted from the call, like providers' deadline from its receipt: for a stream it bounds the
    /// whole stream, not what follows its first content.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(35);
}

/// <summary>Typed client for the providers service's <c>POST /internal/completions</c>, whole or streamed.</summary>
public sealed class ProvidersClient(HttpClient http, TimeProvider time)
{
    public const string DefaultBaseAddress = "http://127.0.0.1:5103/";

    private static readonly MediaTypeWithQualityHeaderValue EventStream = new("text/event-stream");

    public Task<CompletionOutcome> CompleteAsync(CompletionRequest request, CancellationToken cancellationToken) =>
        SendAsync(request, stream: false, cancellationToken);

    /// <summary>
    /// A streamed completion: <see cref="CompletionOutcome.Streaming"/> once its first content is ready, or the
    /// failure that came before any content (retries and fallback happen in providers before then).
    /// </summary>
    public Task<CompletionOutcome> StreamAsync(CompletionRequest request, CancellationToken cancellationToken) =>
        SendAsync(request, stream: true, cancellationToken);

    private async Task<CompletionOutcome> SendAsync(CompletionRequest request, bool stream, CancellationToken cancellationToken)
    {
        HttpResponseMessage? response = null;
        var called = time.GetTimestamp();
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, "internal/completions")
            {
                Content = JsonBody.Create(request, JsonDefaults.JsonOptions),
            };
            if (stream)
            {
                message.Headers.Accept.Add(EventStream);
            }

            response = await http.SendAsync(message, stream ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, cancellationToken);
            if (stream && response.StatusCode == HttpStatusCode.OK && response.Content.Headers.ContentType?.MediaType == EventStream.MediaType)
            {
                var opened = await ProviderStream.OpenAsync(response, TimeLeft(called), time);
                if (opened is null)
                {
                    return new CompletionOutcome.ProvidersUnavailable("The providers service sent a stream without a start.");
                }

                response = null;
                return new CompletionOutcome.Streaming(opened);
            }

            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    var result = await response.Content.ReadFromJsonAsync<CompletionResult>(JsonDefaults.JsonOptions, cancellationToken);
                    return result is null
                        ? new CompletionOutcome.ProvidersUnavailable("The providers service answered without a completion.")
                        : new CompletionOutcome.Succeeded(result);
                case HttpStatusCode.BadGateway:
                    var failed = await response.Content.ReadFromJsonAsync<CompletionFailed>(JsonDefaults.JsonOptions, cancellationToken);
                    return failed is { Reason: CompletionFailureReasons.Rejected }
                        ? new CompletionOutcome.Rejected(failed)
                        : new CompletionOutcome.AllAttemptsFailed(failed?.Detail, failed?.Attempts ?? []);
                case HttpStatusCode.BadRequest:
                    // Providers validates targets against its catalogue: the agent names one it no longer has.
                    return new CompletionOutcome.TargetNotConfigured(ValidationMessages(await response.Content.ReadAsStringAsync(cancellationToken)));
                default:
                    return new CompletionOutcome.ProvidersUnavailable($"The providers service answered {(int)response.StatusCode}.");
            }
        }
        catch (HttpRequestException ex)
        {
            return new CompletionOutcome.ProvidersUnavailable("The providers service could not be reached.", ex.Message);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new CompletionOutcome.ProvidersUnavailable($"The providers service did not answer within {http.Timeout.TotalSeconds:0} s.");
        }
        catch (JsonException ex)
        {
            return new CompletionOutcome.ProvidersUnavailable("The providers service answered unreadably.", ex.Message);
        }
        finally
        {
            response?.Dispose();
        }
    }

    /// <summary>
    /// What is left of the timeout counted from the call: HttpClient's own timer ends with the response headers, which
    /// providers sends with a stream's first content, so a stream may only have the rest.
    /// </summary>
    private TimeSpan TimeLeft(long called) =>
        http.Timeout == Timeout.InfiniteTimeSpan
            ? Timeout.InfiniteTimeSpan
            : TimeSpan.FromTicks(Math.Max(0, (http.Timeout - time.GetElapsedTime(called)).Ticks));

    /// <summary>The messages of a validation problem, one sentence after another.</summary>
    private static string ValidationMessages(string problem)
    {
        try
        {
            using var document = JsonDocument.Parse(problem);
            if (document.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                return string.Join(" ", errors.EnumerateObject()
                    .SelectMany(field => field.Value.ValueKind == JsonValueKind.Array ? field.Value.EnumerateArray() : Enumerable.Empty<JsonElement>())
                    .Select(message => message.GetString()));
            }
        }
        catch (JsonException)
        {
            // Not a problem document; the status says enough.
        }

        return "Providers refused the agent's providers or models.";
    }
}
