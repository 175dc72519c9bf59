using StitchFin.Testing;

namespace StitchFin.Conversation.Tests;

public sealed class ConversationDatabaseOutageTests : DatabaseOutageConformance<Program>
{
    protected override IReadOnlyList<OutageRoute> Routes =>
    [
        new(HttpMethod.Get, "/agents"),
        new(HttpMethod.Get, "/sessions"),
        new(HttpMethod.Post, "/sessions", new { agentId = Guid.NewGuid() }),
        new(HttpMethod.Get, $"/sessions/{Guid.NewGuid()}/transcript"),
        new(HttpMethod.Post, $"/sessions/{Guid.NewGuid()}/messages", new { content = "Anyone there?" }),
        new(HttpMethod.Post, "/v1/chat/completions", new { model = "helper", messages = new[] { new { role = "user", content = "Anyone there?" } } }),
        new(HttpMethod.Post, "/v1/messages", new { model = "helper", max_tokens = 100, messages = new[] { new { role = "user", content = "Anyone there?" } } }),
    ];
}
