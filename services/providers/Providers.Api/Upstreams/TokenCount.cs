namespace StitchFin.Providers.Upstreams;

/// <summary>
/// How the simulated vendors count tokens, and how a reply is counted when its upstream reports no usage:
/// a token per four characters, at least one for a prompt; an empty reply is none.
/// </summary>
public static class TokenCount
{
    public static string Prompt(string systemPrompt, string content) => $"SYSTEM: {systemPrompt}\nUSER: {content}";

    public static int Estimate(string text) => (text.Length + 3) / 4;

    public static int EstimatePrompt(string systemPrompt, string content) => Math.Max(1, Estimate(Prompt(systemPrompt, content)));
}
