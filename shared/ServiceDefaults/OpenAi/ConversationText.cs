using System.Text;
using StitchFin.Contracts.Providers;

namespace StitchFin.ServiceDefaults.OpenAi;

/// <summary>
/// A conversation as one text: what a session transcript stores as the user's message and what the simulated vendors
/// quote and count. The last turn is the text itself; every earlier turn precedes it as a <c>role: text</c> line, in
/// order. A lone turn is its text as it is.
/// </summary>
public static class ConversationText
{
    public static string Flatten(IReadOnlyList<ChatTurn> turns)
    {
        if (turns.Count == 1 && turns[0].ToolCalls is null)
        {
            return turns[0].Text;
        }

        var text = new StringBuilder();
        for (var i = 0; i < turns.Count; i++)
        {
            var turn = turns[i];
            if (i < turns.Count - 1 || turns.Count == 1)
            {
                text.Append(turn.Role).Append(": ");
            }

            text.Append(turn.Text);
            foreach (var call in turn.ToolCalls ?? [])
            {
                text.Append(text.Length > 0 && text[^1] != ' ' ? " " : "").Append('[').Append(call.Name).Append('(').Append(call.Arguments).Append(")]");
            }

            if (i < turns.Count - 1)
            {
                text.Append('\n');
            }
        }

        return text.ToString();
    }
}
