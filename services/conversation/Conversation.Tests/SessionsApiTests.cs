using Microsoft.EntityFrameworkCore;
using System.Net;
using System.Text.Json.Nodes;
using StitchFin.Conversation.Sessions;
using StitchFin.Conversation.Tests.Infrastructure;

namespace StitchFin.Conversation.Tests;

public sealed class SessionsApiTests(ConversationFixture fixture) : IClassFixture<ConversationFixture>
{
    [Fact]
    public async Task A_new_session_has_the_documented_shape()
    {
        var tenant = fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync();
        var reply = await tenant.SendAsync(HttpMethod.Post, "/sessions", new { agentId = agent });
        Assert.Equal(HttpStatusCode.Created, reply.Status);
        var session = reply.Json.AsObject();
        Assert.Equal(["id", "agentId", "createdAt", "lastMessageAt", "messageCount"], session.Select(p => p.Key));
        Assert.Equal(agent, session["agentId"]!.GetValue<Guid>());
        Assert.Null(session["lastMessageAt"]);
        Assert.Equal(0, session["messageCount"]!.GetValue<int>());
        Assert.Equal(session.ToJsonString(), (await tenant.GetOkAsync($"/sessions/{session["id"]}")).ToJsonString());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"agentId":null}""")]
    [InlineData("""{"agentId":"00000000-0000-0000-0000-000000000000"}""")]
    public async Task A_session_needs_an_agent_id(string body)
    {
        var reply = await fixture.NewTenant().SendAsync(HttpMethod.Post, "/sessions", body);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.True(reply.Json["errors"]!.AsObject().ContainsKey("agentId"), reply.Text);
    }

    [Fact]
    public async Task List_is_newest_first_filtered_by_agent_and_paged_by_time()
    {
        var tenant = fixture.NewTenant();
        var agentA = await tenant.CreateAgentAsync(name: "A");
        var agentB = await tenant.CreateAgentAsync(name: "B");
        var a1 = await tenant.CreateSessionAsync(agentA);
        var b1 = await tenant.CreateSessionAsync(agentB);
        var a2 = await tenant.CreateSessionAsync(agentA);
        var a3 = await tenant.CreateSessionAsync(agentA);

        Assert.Equal([a3, a2, b1, a1], Ids(await tenant.GetOkAsync("/sessions")));
        Assert.Equal([a3, a2, a1], Ids(await tenant.GetOkAsync($"/sessions?agentId={agentA}")));
        Assert.Equal([b1], Ids(await tenant.GetOkAsync($"/sessions?agentId={agentB}")));

        var firstPage = await tenant.GetOkAsync("/sessions?limit=2");
        Assert.Equal([a3, a2], Ids(firstPage));
        var cursor = Uri.EscapeDataString(firstPage.AsArray()[^1]!["createdAt"]!.GetValue<string>());
        Assert.Equal([b1, a1], Ids(await tenant.GetOkAsync($"/sessions?limit=2&before={cursor}")));
        Assert.Equal([a1], Ids(await tenant.GetOkAsync($"/sessions?agentId={agentA}&limit=5&before={cursor}")));
        Assert.Empty(Ids(await tenant.GetOkAsync("/sessions?before=2000-01-01T00:00:00Z")));
        Assert.Empty(Ids(await tenant.GetOkAsync($"/sessions?agentId={Guid.NewGuid()}")));
    }

    [Fact]
    public async Task Paging_by_the_last_sessions_time_and_id_skips_none_created_in_the_same_microsecond()
    {
        var tenant = fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync();
        Guid[] ids = [await tenant.CreateSessionAsync(agent), await tenant.CreateSessionAsync(agent), await tenant.CreateSessionAsync(agent)];
        var sameMicrosecond = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(4560);
        await fixture.WithDbAsync(db => db.Sessions.Where(s => ids.Contains(s.Id)).ExecuteUpdateAsync(u => u.SetProperty(s => s.CreatedAt, sameMicrosecond)));

        var seen = new List<Guid>();
        var page = await tenant.GetOkAsync($"/sessions?agentId={agent}&limit=1");
        while (page.AsArray().Count > 0)
        {
            var last = page.AsArray()[^1]!;
            seen.AddRange(Ids(page));
            page = await tenant.GetOkAsync($"/sessions?agentId={agent}&limit=1"
                + $"&before={Uri.EscapeDataString(last["createdAt"]!.GetValue<string>())}&beforeId={last["id"]}");
        }

        Assert.Equal(3, seen.Count);
        Assert.Equal(ids.ToHashSet(), seen.ToHashSet());
        // Without the id a page goes on strictly before the time, as before: the other two sessions would be skipped.
        Assert.Empty(Ids(await tenant.GetOkAsync($"/sessions?agentId={agent}&before={Uri.EscapeDataString(sameMicrosecond.ToString("O"))}")));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=", "limit")]
    [InlineData("before=yesterday", "before")]
    [InlineData("agentId=42", "agentId")]
    public async Task Bad_list_parameters_are_400(string query, string field)
    {
        var reply = await fixture.NewTenant().SendAsync(HttpMethod.Get, $"/sessions?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("application/problem+json", reply.ContentType);
        Assert.True(reply.Json["errors"]!.AsObject().ContainsKey(field), reply.Text);
    }

    [Fact]
    public async Task Transcript_is_in_order_and_the_session_counts_its_messages()
    {
        var tenant = fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        var exchanges = new List<JsonNode>();
        foreach (var content in new[] { "one", "two", "three" })
        {
            exchanges.Add(await tenant.SendMessageOkAsync(session, content));
        }

        var transcript = await tenant.GetOkAsync($"/sessions/{session}/transcript");
        Assert.Equal(session, transcript["sessionId"]!.GetValue<Guid>());
        var messages = transcript["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "user", "assistant", "user", "assistant"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal(["one", "two", "three"], messages.Where((_, i) => i % 2 == 0).Select(m => m!["content"]!.GetValue<string>()));
        for (var i = 0; i < exchanges.Count; i++)
        {
            // The transcript holds exactly what each exchange answered.
            Assert.Equal(exchanges[i]["userMessage"]!.ToJsonString(), messages[2 * i]!.ToJsonString());
            Assert.Equal(exchanges[i]["assistantMessage"]!.ToJsonString(), messages[2 * i + 1]!.ToJsonString());
        }

        Assert.False(messages[0]!.AsObject().ContainsKey("provider"));
        Assert.Equal("VendorA", messages[1]!["provider"]!.GetValue<string>());

        var view = await tenant.GetOkAsync($"/sessions/{session}");
        Assert.Equal(6, view["messageCount"]!.GetValue<int>());
        Assert.Equal(messages[5]!["createdAt"]!.GetValue<DateTimeOffset>(), view["lastMessageAt"]!.GetValue<DateTimeOffset>());
    }

    [Fact]
    public async Task A_long_transcript_comes_a_page_at_a_time_and_a_walk_either_way_sees_every_message_once()
    {
        var tenantId = Guid.NewGuid();
        var tenant = new TenantClient(fixture.Factory.CreateClientFor(tenantId));
        var session = await tenant.CreateSessionAsync();
        // 500 messages written in one microsecond, with ids in no particular order: only their sequence orders them.
        var sameMicrosecond = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(4560);
        var ids = Enumerable.Range(0, 500).Select(_ => Guid.NewGuid()).ToList();
        await fixture.WithDbAsync(db =>
        {
            db.Messages.AddRange(ids.Select((id, i) => new SessionMessage
            {
                Id = id, TenantId = tenantId, SessionId = session, Sequence = i + 1, Role = SessionMessage.UserRole, Content = $"message {i + 1}",
                Channel = "text", CreatedAt = sameMicrosecond,
            }));
            return db.SaveChangesAsync();
        });

        var first = await tenant.GetOkAsync($"/sessions/{session}/transcript");
        Assert.Equal(["sessionId", "agentId", "messages", "hasMore"], first.AsObject().Select(p => p.Key));
        Assert.Equal(ids.Take(TranscriptQuery.DefaultLimit), Ids(first["messages"]!));
        Assert.True(first["hasMore"]!.GetValue<bool>());

        // Oldest first, as many as a page may hold.
        var (oldestFirst, pageSizes) = await WalkTranscriptAsync(tenant, $"/sessions/{session}/transcript?limit={TranscriptQuery.MaxLimit}", TranscriptQuery.MaxLimit);
        Assert.Equal(ids, oldestFirst);
        Assert.Equal([200, 200, 100], pageSizes);

        // Newest first, as a chat shows the latest messages and loads older ones on demand.
        var (newestFirst, _) = await WalkTranscriptAsync(tenant, $"/sessions/{session}/transcript?order=desc&limit=64", 64);
        Assert.Equal(Enumerable.Reverse(ids), newestFirst);

        var afterTheLast = await tenant.GetOkAsync($"/sessions/{session}/transcript?after={ids[^1]}");
        Assert.Empty(afterTheLast["messages"]!.AsArray());
        Assert.False(afterTheLast["hasMore"]!.GetValue<bool>());

        // A message of another session of the same tenant is no place to go on from.
        var other = await tenant.CreateSessionAsync();
        var otherMessage = (await tenant.SendMessageOkAsync(other, "elsewhere"))["userMessage"]!["id"]!.GetValue<Guid>();
        var reply = await tenant.SendAsync(HttpMethod.Get, $"/sessions/{session}/transcript?after={otherMessage}");
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.True(reply.Json["errors"]!.AsObject().ContainsKey("after"), reply.Text);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=201", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=", "limit")]
    [InlineData("order=newest", "order")]
    [InlineData("after=42", "after")]
    [InlineData("after=5f0c6f1e-0000-4000-8000-000000000000", "after")]
    public async Task Bad_transcript_parameters_are_400(string query, string field)
    {
        var tenant = fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        var reply = await tenant.SendAsync(HttpMethod.Get, $"/sessions/{session}/transcript?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("application/problem+json", reply.ContentType);
        Assert.Equal([field], reply.Json["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task Concurrent_exchanges_in_one_session_keep_each_pair_together()
    {
        var tenant = fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        var contents = Enumerable.Range(1, 8).Select(i => $"parallel question {i}").ToList();
        await Task.WhenAll(contents.Select(c => tenant.SendMessageOkAsync(session, c)));

        var messages = (await tenant.GetOkAsync($"/sessions/{session}/transcript"))["messages"]!.AsArray();
        Assert.Equal(16, messages.Count);
        for (var i = 0; i < messages.Count; i += 2)
        {
            var question = messages[i]!["content"]!.GetValue<string>();
            Assert.Equal("user", messages[i]!["role"]!.GetValue<string>());
            Assert.Equal("assistant", messages[i + 1]!["role"]!.GetValue<string>());
            Assert.Contains(question, messages[i + 1]!["content"]!.GetValue<string>());
        }

        Assert.Equal(contents.Order(), messages.Where((_, i) => i % 2 == 0).Select(m => m!["content"]!.GetValue<string>()).Order());
        Assert.Equal(16, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());
    }

    private static List<Guid> Ids(JsonNode list) => list.AsArray().Select(s => s!["id"]!.GetValue<Guid>()).ToList();

    /// <summary>Follows <c>after</c> from page to page until <c>hasMore</c> is false; no page may hold more than its limit.</summary>
    private static async Task<(List<Guid> Messages, List<int> PageSizes)> WalkTranscriptAsync(TenantClient tenant, string firstPage, int limit)
    {
        var (messages, sizes) = (new List<Guid>(), new List<int>());
        var page = await tenant.GetOkAsync(firstPage);
        while (true)
        {
            var ids = Ids(page["messages"]!);
            Assert.InRange(ids.Count, 1, limit);
            messages.AddRange(ids);
            sizes.Add(ids.Count);
            if (!page["hasMore"]!.GetValue<bool>())
            {
                return (messages, sizes);
            }

            page = await tenant.GetOkAsync($"{firstPage}&after={ids[^1]}");
        }
    }
}
