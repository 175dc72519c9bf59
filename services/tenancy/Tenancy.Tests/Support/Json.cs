using System.Net;
using System.Text.Json;

namespace StitchFin.Tenancy.Tests.Support;

public static class Json
{
    public static string[] PropertyNames(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    /// <summary>Asserts an RFC 7807 answer with the given status and returns its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, json.GetProperty("status").GetInt32());
        return json;
    }

    /// <summary>Asserts a 400 validation problem naming exactly <paramref name="field"/>.</summary>
    public static async Task AssertValidationProblemAsync(HttpResponseMessage response, string field)
    {
        var json = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = json.GetProperty("errors");
        Assert.Equal([field], PropertyNames(errors));
        Assert.NotEmpty(errors.GetProperty(field).EnumerateArray());
    }

    /// <summary>The contract writes times as ISO-8601 UTC with a Z.</summary>
    public static DateTimeOffset UtcTime(JsonElement element)
    {
        var text = element.GetString()!;
        Assert.EndsWith("Z", text, StringComparison.Ordinal);
        return DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }
}
