using System.Text.Json;
using System.Text.Json.Serialization;

namespace StitchFin.Tenancy.Infrastructure;

/// <summary>Writes times as ISO-8601 UTC with a <c>Z</c> (<c>2026-11-27T22:30:00Z</c>), as the API contract shows, rather than <c>+00:00</c>.</summary>
public sealed class UtcTimestampJsonConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime);
}
