using Microsoft.Extensions.Primitives;

namespace StitchFin.Voice.Turns;

/// <summary>The same rule as the message endpoint: optional here, but when given 1-255 printable ASCII characters.</summary>
public static class IdempotencyKeys
{
    public const int MaxLength = 255;
    private const string Field = "idempotencyKey";

    /// <returns>Validation errors, or null when the header is absent or valid.</returns>
    public static Dictionary<string, string[]>? Validate(StringValues header)
    {
        if (header.Count == 0)
        {
            return null;
        }

        if (header.Count > 1)
        {
            return Error("Send one Idempotency-Key header, not several.");
        }

        var key = header[0] ?? "";
        if (key.Length is 0 or > MaxLength)
        {
            return Error($"Idempotency-Key must be 1-{MaxLength} characters long.");
        }

        return key.All(c => c is >= ' ' and <= '~') ? null : Error("Idempotency-Key must contain printable ASCII characters only.");
    }

    private static Dictionary<string, string[]> Error(string message) => new() { [Field] = [message] };
}
