namespace StitchFin.ServiceDefaults.OpenAi;

/// <summary>How a completed reply is cut into stream deltas: each word with the whitespace that follows it.</summary>
public static class ContentDeltas
{
    public static IEnumerable<string> Split(string content)
    {
        var start = 0;
        for (var i = 1; i < content.Length; i++)
        {
            if (char.IsWhiteSpace(content[i - 1]) && !char.IsWhiteSpace(content[i]))
            {
                yield return content[start..i];
                start = i;
            }
        }

        if (start < content.Length)
        {
            yield return content[start..];
        }
    }
}
