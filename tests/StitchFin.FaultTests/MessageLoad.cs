using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace StitchFin.FaultTests;

/// <summary>Sends messages through the edge with a unique Idempotency-Key each, optionally retrying a failed send with the same key.</summary>
public sealed class MessageLoad(Tenant tenant, IReadOnlyList<Guid> sessions)
{
    public ConcurrentDictionary<string, JsonNode> Responses { get; } = new();

    public ConcurrentBag<(string Key, int Status)> Failures { get; } = [];

    /// <summary>Every attempt, retries included, in the order they were answered.</summary>
    public ConcurrentQueue<Attempt> Attempts { get; } = new();

    /// <summary>How often each status answered an attempt, retries included (0: no connection, -1: no answer in time).</summary>
    public ConcurrentDictionary<int, int> Statuses { get; } = new();

    /// <summary>Attempts answered with anything but 201, retries included.</summary>
    public long Unsuccessful => Interlocked.Read(ref _unsuccessful);

    private long _unsuccessful;

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Attempts refused with 429 or 503 that did not say when to retry.</summary>
    public long RefusedWithoutRetryAfter => Interlocked.Read(ref _refusedWithoutRetryAfter);

    private long _refusedWithoutRetryAfter;

    private long _requests;
    private long _started;

    public long Started => Interlocked.Read(ref _started);

    public async Task RunAsync(int count, int concurrency, bool retryUntilSuccess, TimeSpan retryFor)
    {
        using var gate = new SemaphoreSlim(concurrency);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                Interlocked.Increment(ref _started);
                await SendOneAsync(i, retryUntilSuccess, retryFor);
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
    }

    private async Task SendOneAsync(int index, bool retry, TimeSpan retryFor)
    {
        var key = $"load-{Guid.NewGuid():N}";
        var session = sessions[index % sessions.Count];
        var deadline = DateTime.UtcNow + retryFor;
        while (true)
        {
            Interlocked.Increment(ref _requests);
            var began = Stopwatch.GetTimestamp();
            int status;
            var wait = TimeSpan.FromMilliseconds(250);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/messages")
                {
                    Content = JsonContent.Create(new { content = $"Load message {index} with some words to count" }),
                };
                request.Headers.Add("Idempotency-Key", key);
                using var response = await tenant.Client.SendAsync(request);
                status = (int)response.StatusCode;
                if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
                {
                    if (response.Headers.RetryAfter?.Delta is { } retryAfter)
                    {
                        wait = retryAfter;
                    }
                    else
                    {
                        Interlocked.Increment(ref _refusedWithoutRetryAfter);
                    }
                }

                if (response.StatusCode == HttpStatusCode.Created)
                {
                    Attempts.Enqueue(new Attempt(key, began, Stopwatch.GetTimestamp(), status));
                    Statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                    Responses[key] = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                    return;
                }
            }
            catch (HttpRequestException)
            {
                status = 0;
            }
            catch (TaskCanceledException)
            {
                status = -1;
            }

            Attempts.Enqueue(new Attempt(key, began, Stopwatch.GetTimestamp(), status));
            Statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            Interlocked.Increment(ref _unsuccessful);
            if (!retry || DateTime.UtcNow > deadline)
            {
                Failures.Add((key, status));
                return;
            }

            await Task.Delay(wait);
        }
    }

    public (int Messages, long TokensIn, long TokensOut, decimal Cost) Sum() =>
        (Responses.Count,
         Responses.Values.Sum(r => (long)r["usage"]!["tokensIn"]!.GetValue<int>()),
         Responses.Values.Sum(r => (long)r["usage"]!["tokensOut"]!.GetValue<int>()),
         Responses.Values.Sum(r => r["usage"]!["costUsd"]!.GetValue<decimal>()));
}

/// <summary>One send of a key: when it began and when it was answered (<see cref="Stopwatch"/> timestamps), and its status as in <see cref="MessageLoad.Statuses"/>.</summary>
public readonly record struct Attempt(string Key, long BeganAt, long AnsweredAt, int Status);
