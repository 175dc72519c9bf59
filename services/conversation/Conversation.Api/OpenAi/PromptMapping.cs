using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Conversation.OpenAi;

/// <summary>
/// A chat's messages as the exchange sends them on: each message a turn of the conversation after the agent's system
/// prompt (<c>developer</c> reads as <c>system</c>), and the whole as one text for the transcript (README
/// "OpenAI-compatible API" documents the mapping).
/// </summary>
public static class PromptMapping
{
    public static IReadOnlyList<ChatTurn> Turns(IReadOnlyList<ChatMessage> messages) =>
        messages.Select(m => new ChatTurn(m.Role == ChatCompletionRequest.Developer ? ChatRoles.System : m.Role, m.Text)).ToArray();

    /// <summary>
    /// The last message (a user message, as <see cref="ChatCompletionRequest.Parse"/> ensures) is the content; every
    /// earlier message precedes it as a <c>role: text</c> line, in order. A lone user message is the content as it is.
    /// </summary>
    public static string UserContent(IReadOnlyList<ChatMessage> messages) => ConversationText.Flatten(Turns(messages));
}
