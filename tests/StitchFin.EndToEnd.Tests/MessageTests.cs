using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace StitchFin.EndToEnd.Tests;

[Collection(SystemCollection.Name)]
public sealed class MessageTests(StitchFinSystem system)
{
    [Fact]
    public async Task A_message_through_the_edge_is_answered_stored_and_replayed_byte_for_byte()
    {
        var tenant = await Tenant.CreateAsync(system);
        var agent = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
        var session = (await tenant.CreateSessionAsync(agent))["id"]!.GetValue<Guid>();
        var key = Guid.NewGuid().ToString();

        var (status1, body1, replayed1) = await SendAsync(tenant, session, key, "What is the weather like on Mars today?");
        var (status2, body2, replayed2) = await SendAsync(tenant, session, key, "What is the weather like on Mars today?");
        Assert.Equal(HttpStatusCode.Created, status1);
        Assert.False(replayed1);
        Assert.True(replayed2);
        Assert.Equal(status1, status2);
        Assert.Equal(body1, body2);

        var exchange = JsonNode.Parse(body1)!;
        Assert.StartsWith("[Vendor", exchange["assistantMessage"]!["content"]!.GetValue<string>());
        Assert.Contains("What is the weather like on Mars today?", exchange["assistantMessage"]!["content"]!.GetValue<string>());
        Assert.NotEmpty(exchange["attempts"]!.AsArray());

        var (status3, _, _) = await SendAsync(tenant, session, key, "A different question");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status3);

        var transcript = await tenant.ExpectAsync(HttpMethod.Get, $"/sessions/{session}/transcript", HttpStatusCode.OK);
        var messages = transcript["messages"]!.AsArray();
        Assert.Equal(["user", "assistant"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.All(messages, m => Assert.Equal("text", m!["channel"]!.GetValue<string>()));
        var sessionView = await tenant.ExpectAsync(HttpMethod.Get, $"/sessions/{session}", HttpStatusCode.OK);
        Assert.Equal(2, sessionView["messageCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_transcript_through_the_edge_comes_a_page_at_a_time_and_bad_page_parameters_are_400()
    {
        var tenant = await Tenant.CreateAsync(system);
        var agent = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
        var session = (await tenant.CreateSessionAsync(agent))["id"]!.GetValue<Guid>();
        foreach (var content in new[] { "one", "two", "three" })
        {
            await tenant.SendMessageAsync(session, content);
        }

        var whole = (await tenant.ExpectAsync(HttpMethod.Get, $"/sessions/{session}/transcript", HttpStatusCode.OK))["messages"]!.AsArray();
        var first = await tenant.ExpectAsync(HttpMethod.Get, $"/sessions/{session}/transcript?limit=4", HttpStatusCode.OK);
        Assert.True(first["hasMore"]!.GetValue<bool>());
        var last = first["messages"]!.AsArray()[^1]!["id"]!.GetValue<Guid>();
        var rest = await tenant.ExpectAsync(HttpMethod.Get, $"/sessions/{session}/transcript?limit=4&after={last}", HttpStatusCode.OK);
        Assert.False(rest["hasMore"]!.GetValue<bool>());
        Assert.Equal(
            whole.Select(m => m!["id"]!.GetValue<Guid>()),
            first["messages"]!.AsArray().Concat(rest["messages"]!.AsArray()).Select(m => m!["id"]!.GetValue<Guid>()));
        Assert.Equal(6, whole.Count);

        foreach (var path in new[] { $"/sessions/{session}/transcript?limit=201", "/agents?limit=101", "/keys?limit=0" })
        {
            using var response = await tenant.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Missing_idempotency_key_or_bad_body_is_400()
    {
        var tenant = await Tenant.CreateAsync(system);
        var agent = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
        var session = (await tenant.CreateSessionAsync(agent))["id"]!.GetValue<Guid>();
        using var noKey = await tenant.Client.PostAsJsonAsync($"/sessions/{session}/messages", new { content = "hi" });
        Assert.Equal(HttpStatusCode.BadRequest, noKey.StatusCode);
        var (status, _, _) = await SendAsync(tenant, session, Guid.NewGuid().ToString(), "");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    private static async Task<(HttpStatusCode Status, string Body, bool Replayed)> SendAsync(Tenant tenant, Guid session, string key, string content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/messages") { Content = JsonContent.Create(new { content }) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await tenant.Client.SendAsync(request);
        var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true";
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), replayed);
    }
}
