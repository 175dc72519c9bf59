namespace StitchFin.ServiceDefaults.Http;

/// <summary>
/// What text may be stored: PostgreSQL refuses NUL characters and strict UTF-8 refuses unpaired surrogates, and
/// terminal control sequences in names only ever serve an attacker. Checked at the API so such input is a 400,
/// never a database error.
/// </summary>
public static class TextRules
{
    /// <returns>Why <paramref name="text"/> cannot be stored, or null when it can.</returns>
    /// <param name="multiline">Allow tab and line breaks (prompts, message content); names allow neither.</param>
    public static string? Problem(string text, bool multiline)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsSurrogate(c))
            {
                return "must not contain unpaired surrogate characters";
            }

            if (c == '\0')
            {
                return "must not contain NUL characters";
            }

            if (char.IsControl(c) && !(multiline && c is '\t' or '\n' or '\r'))
            {
                return multiline ? "must not contain control characters other than tab and line breaks" : "must not contain control characters";
            }
        }

        return null;
    }
}
