using System.Text;

namespace StitchFin.Conversation.OpenAi;

/// <summary>
/// Turns a chat's messages into the one user content the exchange sends to providers (after the agent's system
/// prompt, which stays the provider's system prompt). README "OpenAI-compatible API" documents the mapping.
/// </summary>
public static class PromptMapping
{
    /// <summary>
    /// The last message (a user message, as <see cref="ChatCompletionRequest.Parse"/> ensures) is the content;
    /// every earlier message precedes it as a <c>role: text</c> line, in order (<c>developer</c> reads as
    /// <c>system</c>). A lone user message is sent as it is.
    /// </summary>
    public static string UserContent(IReadOnlyList<ChatMessage> messages)
    {
        if (messages.Count == 1)
        {
            return messages[0].Text;
        }

        var content = new StringBuilder();
        for (var i = 0; i < messages.Count - 1; i++)
        {
            var role = messages[i].Role == ChatCompletionRequest.Developer ? ChatCompletionRequest.System : messages[i].Role;
            content.Append(role).Append(": ").Append(messages[i].Text).Append('\n');
        }

        return content.Append(messages[^1].Text).ToString();
    }
}
