namespace StitchFin.Conversation.Idempotency;

public static class IdempotencyKey
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeaderName = "Idempotent-Replayed";
    public const int MaxLength = 255;

    /// <returns>Why <paramref name="key"/> is not usable, or null when it is 1-255 printable ASCII characters.</returns>
    public static string? Problem(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return $"The {HeaderName} header is required.";
        }

        if (key.Length > MaxLength)
        {
            return $"The {HeaderName} header must be at most {MaxLength} characters.";
        }

        return key.All(c => c is >= ' ' and <= '~')
            ? null
            : $"The {HeaderName} header must contain only printable ASCII characters.";
    }
}
