using System.Net.Http.Headers;
using System.Text.Json;

namespace StitchFin.ServiceDefaults.Http;

/// <summary>
/// A JSON request body for calls between services, serialized up front so that it goes out with its length and the
/// receiving service's admission control counts it exactly (a body of undeclared length counts as a nominal size).
/// </summary>
public static class JsonBody
{
    private static readonly MediaTypeHeaderValue ContentType = MediaTypeHeaderValue.Parse("application/json; charset=utf-8");

    public static ByteArrayContent Create<T>(T value, JsonSerializerOptions options)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, options));
        content.Headers.ContentType = ContentType;
        return content;
    }
}
