using System.Net;
using System.Text.Json;

namespace StitchFin.Voice.Tests;

public static class Problems
{
    /// <summary>Asserts an RFC 7807 answer with this status and returns its JSON.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status,
            $"expected {status}, got {response.StatusCode} {response.Content.Headers.ContentType}: {body[..Math.Min(body.Length, 300)]}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.Equal((int)status, json.RootElement.GetProperty("status").GetInt32());
        Assert.True(json.RootElement.TryGetProperty("traceId", out _), body);
        return json.RootElement.Clone();
    }
}
