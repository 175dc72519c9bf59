using System.Net;
using StitchFin.Conversation.Agents;
using StitchFin.Conversation.Tests.Infrastructure;

namespace StitchFin.Conversation.Tests;

public sealed class AgentsApiTests(ConversationFixture fixture) : IClassFixture<ConversationFixture>
{
    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"name":"","primaryProvider":"VendorA","fallbackProvider":null,"systemPrompt":""}""", "name" },
        { """{"name":"   ","primaryProvider":"VendorA"}""", "name" },
        { """{"primaryProvider":"VendorA"}""", "name" },
        { $$"""{"name":"{{new string('n', 101)}}","primaryProvider":"VendorA"}""", "name" },
        { """{"name":"Bot"}""", "primaryProvider" },
        { """{"name":"Bot","primaryProvider":"vendora"}""", "primaryProvider" },
        { """{"name":"Bot","primaryProvider":"VendorC"}""", "primaryProvider" },
        { """{"name":"Bot","primaryProvider":"VendorA","fallbackProvider":"VendorA"}""", "fallbackProvider" },
        { """{"name":"Bot","primaryProvider":"VendorB","fallbackProvider":"Vendor B"}""", "fallbackProvider" },
        { $$"""{"name":"Bot","primaryProvider":"VendorA","systemPrompt":"{{new string('p', 8001)}}"}""", "systemPrompt" },
        { """{"name":"Bot","primaryProvider":"Local"}""", "primaryModel" },
        { """{"name":"Bot","primaryProvider":"VendorA","primaryModel":"gpt-4o"}""", "primaryModel" },
        { """{"name":"Bot","primaryProvider":"Local","primaryModel":"m1","fallbackProvider":"Local","fallbackModel":"m1"}""", "fallbackModel" },
        { """{"name":"Bot","primaryProvider":"Local","primaryModel":"m1","fallbackProvider":"Local"}""", "fallbackModel" },
        { """{"name":"Bot","primaryProvider":"VendorA","fallbackModel":"vendor-b"}""", "fallbackModel" },
        { """{"name":"Bot","primaryProvider":"Local","primaryModel":""}""", "primaryModel" },
        { $$"""{"name":"Bot","primaryProvider":"Local","primaryModel":"{{new string('m', 201)}}"}""", "primaryModel" },
    };

    [Fact]
    public async Task An_agent_chooses_a_provider_and_a_model_and_the_fallback_may_be_another_model_of_the_same_provider()
    {
        var tenant = fixture.NewTenant();

        var created = await tenant.SendAsync(HttpMethod.Post, "/agents",
            """{"name":"Local bot","primaryProvider":"Local","primaryModel":"llama3.1:8b","fallbackProvider":"Local","fallbackModel":"qwen2.5:7b"}""");

        Assert.True(created.Status == HttpStatusCode.Created, created.Text);
        var agent = created.Json;
        Assert.Equal(("Local", "llama3.1:8b"), (agent["primaryProvider"]!.GetValue<string>(), agent["primaryModel"]!.GetValue<string>()));
        Assert.Equal(("Local", "qwen2.5:7b"), (agent["fallbackProvider"]!.GetValue<string>(), agent["fallbackModel"]!.GetValue<string>()));
        var read = await tenant.GetOkAsync($"/agents/{agent["id"]}");
        Assert.Equal("qwen2.5:7b", read["fallbackModel"]!.GetValue<string>());

        // A simulated vendor needs no model: null means its default.
        var simulated = await tenant.SendAsync(HttpMethod.Post, "/agents", """{"name":"Sim","primaryProvider":"VendorA","fallbackProvider":"VendorB"}""");
        Assert.Equal(HttpStatusCode.Created, simulated.Status);
        Assert.Null(simulated.Json["primaryModel"]);
        Assert.Null(simulated.Json["fallbackModel"]);
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_agents_are_400_with_the_field_named(string body, string field)
    {
        var tenant = fixture.NewTenant();
        var created = await tenant.SendAsync(HttpMethod.Post, "/agents", body);
        AssertValidationProblem(created, field);

        var agent = await tenant.CreateAgentAsync();
        var updated = await tenant.SendAsync(HttpMethod.Put, $"/agents/{agent}", body);
        AssertValidationProblem(updated, field);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"name":42,"primaryProvider":"VendorA"}""")]
    [InlineData("")]
    public async Task Unreadable_bodies_are_400_problems(string body)
    {
        var reply = await fixture.NewTenant().SendAsync(HttpMethod.Post, "/agents", body);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("application/problem+json", reply.ContentType);
    }

    [Fact]
    public async Task Boundary_values_are_accepted_and_a_null_prompt_is_empty()
    {
        var tenant = fixture.NewTenant();
        var name = new string('n', 100);
        var prompt = new string('p', 8000);
        var reply = await tenant.SendAsync(HttpMethod.Post, "/agents", new { name, primaryProvider = "VendorB", fallbackProvider = (string?)null, systemPrompt = prompt });
        Assert.Equal(HttpStatusCode.Created, reply.Status);
        var agent = reply.Json;
        Assert.Equal(name, agent["name"]!.GetValue<string>());
        Assert.Equal(prompt, agent["systemPrompt"]!.GetValue<string>());
        Assert.Null(agent["fallbackProvider"]);
        Assert.True(agent.AsObject().ContainsKey("fallbackProvider"));

        var nullPrompt = await tenant.SendAsync(HttpMethod.Post, "/agents", """{"name":"x","primaryProvider":"VendorA","fallbackProvider":"VendorB","systemPrompt":null}""");
        Assert.Equal(HttpStatusCode.Created, nullPrompt.Status);
        Assert.Equal("", nullPrompt.Json["systemPrompt"]!.GetValue<string>());
    }

    [Fact]
    public async Task Crud_round_trip_lists_newest_first()
    {
        var tenant = fixture.NewTenant();
        var first = await tenant.CreateAgentAsync(name: "First");
        var second = await tenant.CreateAgentAsync("VendorB", "VendorA", "Be terse.", "Second");

        var one = await tenant.GetOkAsync($"/agents/{second}");
        Assert.Equal("Second", one["name"]!.GetValue<string>());
        Assert.Equal("VendorB", one["primaryProvider"]!.GetValue<string>());
        Assert.Equal("VendorA", one["fallbackProvider"]!.GetValue<string>());
        Assert.Equal("Be terse.", one["systemPrompt"]!.GetValue<string>());
        Assert.Equal(one["createdAt"]!.GetValue<DateTimeOffset>(), one["updatedAt"]!.GetValue<DateTimeOffset>());

        var list = await tenant.GetOkAsync("/agents");
        Assert.Equal([second, first], list.AsArray().Select(a => a!["id"]!.GetValue<Guid>()));

        var updated = await tenant.SendAsync(HttpMethod.Put, $"/agents/{first}", new { name = "Renamed", primaryProvider = "VendorA", fallbackProvider = (string?)null, systemPrompt = "New" });
        Assert.Equal(HttpStatusCode.OK, updated.Status);
        Assert.Equal("Renamed", updated.Json["name"]!.GetValue<string>());
        Assert.Null(updated.Json["fallbackProvider"]);
        Assert.True(updated.Json["updatedAt"]!.GetValue<DateTimeOffset>() > updated.Json["createdAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal("Renamed", (await tenant.GetOkAsync($"/agents/{first}"))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Deleted_agents_are_gone_from_the_api_but_their_sessions_keep_their_transcripts()
    {
        var tenant = fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync();
        var session = await tenant.CreateSessionAsync(agent);
        await tenant.SendMessageOkAsync(session, "Before the agent was deleted");

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.SendAsync(HttpMethod.Delete, $"/agents/{agent}")).Status);

        AssertNotFound(await tenant.SendAsync(HttpMethod.Get, $"/agents/{agent}"));
        AssertNotFound(await tenant.SendAsync(HttpMethod.Delete, $"/agents/{agent}"));
        AssertNotFound(await tenant.SendAsync(HttpMethod.Put, $"/agents/{agent}", new { name = "Back", primaryProvider = "VendorA" }));
        AssertNotFound(await tenant.SendAsync(HttpMethod.Post, "/sessions", new { agentId = agent }));
        Assert.Empty((await tenant.GetOkAsync("/agents")).AsArray());

        Assert.Equal(2, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());
        Assert.Equal(2, (await tenant.GetOkAsync($"/sessions/{session}/transcript"))["messages"]!.AsArray().Count);
        Assert.Single((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray());

        // A message to a session whose agent is gone is refused, and nothing is stored or charged.
        var callsBefore = fixture.Providers.Calls;
        var refused = await tenant.SendMessageAsync(session, Guid.NewGuid().ToString(), "After the agent was deleted");
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Equal("application/problem+json", refused.ContentType);
        Assert.Null(refused.RetryAfter);
        Assert.Equal(callsBefore, fixture.Providers.Calls);
        Assert.Equal(2, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());
    }

    public static TheoryData<string, string, bool> IdRoutes => new()
    {
        { "GET", "/agents/{agent}", false },
        { "PUT", "/agents/{agent}", false },
        { "DELETE", "/agents/{agent}", false },
        { "POST", "/sessions", false },
        { "GET", "/sessions/{session}", false },
        { "GET", "/sessions/{session}/transcript", false },
        { "POST", "/sessions/{session}/messages", false },
        { "POST", "/internal/sessions/{session}/messages", false },
        { "GET", "/agents/{agent}", true },
        { "PUT", "/agents/{agent}", true },
        { "DELETE", "/agents/{agent}", true },
        { "POST", "/sessions", true },
        { "GET", "/sessions/{session}", true },
        { "GET", "/sessions/{session}/transcript", true },
        { "POST", "/sessions/{session}/messages", true },
        { "POST", "/internal/sessions/{session}/messages", true },
    };

    [Theory]
    [MemberData(nameof(IdRoutes))]
    public async Task Unknown_ids_and_another_tenants_ids_are_404_alike(string method, string route, bool anotherTenants)
    {
        var owner = fixture.NewTenant();
        var (agent, session) = anotherTenants
            ? await OwnedAsync(owner)
            : (Guid.NewGuid(), Guid.NewGuid());
        var caller = fixture.NewTenant();
        var path = route.Replace("{agent}", agent.ToString()).Replace("{session}", session.ToString());
        object? body = (method, route) switch
        {
            ("PUT", _) => new { name = "Stolen", primaryProvider = "VendorA", fallbackProvider = (string?)null, systemPrompt = "" },
            ("POST", "/sessions") => new { agentId = agent },
            ("POST", "/internal/sessions/{session}/messages") => new { content = "hello", channel = "voice", requestFingerprint = (string?)null },
            ("POST", _) => new { content = "hello" },
            _ => null,
        };
        var callsBefore = fixture.Providers.Calls;

        AssertNotFound(await caller.SendAsync(new HttpMethod(method), path, body, Guid.NewGuid().ToString()));

        Assert.Equal(callsBefore, fixture.Providers.Calls);
        if (anotherTenants)
        {
            Assert.Equal("Helper", (await owner.GetOkAsync($"/agents/{agent}"))["name"]!.GetValue<string>());
            Assert.Equal(2, (await owner.GetOkAsync($"/sessions/{session}/transcript"))["messages"]!.AsArray().Count);
        }
    }

    [Fact]
    public async Task Lists_hold_only_the_callers_own()
    {
        var (agent, session) = await OwnedAsync(fixture.NewTenant());
        var other = fixture.NewTenant();
        Assert.Empty((await other.GetOkAsync("/agents")).AsArray());
        Assert.Empty((await other.GetOkAsync("/sessions")).AsArray());
        Assert.Empty((await other.GetOkAsync($"/sessions?agentId={agent}")).AsArray());
        Assert.NotEqual(Guid.Empty, session);
    }

    [Fact]
    public async Task Agents_come_a_page_at_a_time_and_a_walk_sees_each_live_agent_once_even_when_created_in_the_same_microsecond()
    {
        var tenantId = Guid.NewGuid();
        var tenant = new TenantClient(fixture.Factory.CreateClientFor(tenantId));
        var sameMicrosecond = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(4560);
        var agents = Enumerable.Range(1, 120).Select(i => new Agent
        {
            Id = Guid.NewGuid(), TenantId = tenantId, Name = $"agent {i}", PrimaryProvider = "VendorA", SystemPrompt = "",
            CreatedAt = sameMicrosecond, UpdatedAt = sameMicrosecond, DeletedAt = i % 10 == 0 ? sameMicrosecond : null,
        }).ToList();
        await fixture.WithDbAsync(db =>
        {
            db.Agents.AddRange(agents);
            return db.SaveChangesAsync();
        });
        var live = agents.Where(a => a.DeletedAt is null).Select(a => a.Id).ToHashSet();

        // Without a limit a page holds the most it may: 100 of the 108.
        Assert.Equal(AgentsApi.MaxListLimit, (await tenant.GetOkAsync("/agents")).AsArray().Count);

        var seen = new List<Guid>();
        var page = await tenant.GetOkAsync("/agents?limit=25");
        while (page.AsArray().Count > 0)
        {
            Assert.InRange(page.AsArray().Count, 1, 25);
            var last = page.AsArray()[^1]!;
            seen.AddRange(page.AsArray().Select(a => a!["id"]!.GetValue<Guid>()));
            page = await tenant.GetOkAsync($"/agents?limit=25&before={Uri.EscapeDataString(last["createdAt"]!.GetValue<string>())}&beforeId={last["id"]}");
        }

        Assert.Equal(live.Count, seen.Count);
        Assert.Equal(live, seen.ToHashSet());
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=", "limit")]
    [InlineData("before=yesterday", "before")]
    [InlineData("beforeId=0193a1b2-0000-7000-8000-000000000001", "beforeId")]
    [InlineData("before=2026-12-01T12:00:00Z&beforeId=nope", "beforeId")]
    public async Task Bad_agent_list_parameters_are_400(string query, string field)
    {
        var reply = await fixture.NewTenant().SendAsync(HttpMethod.Get, $"/agents?{query}");
        AssertValidationProblem(reply, field);
        Assert.Equal([field], reply.Json["errors"]!.AsObject().Select(e => e.Key));
    }

    private static async Task<(Guid Agent, Guid Session)> OwnedAsync(TenantClient owner)
    {
        var agent = await owner.CreateAgentAsync();
        var session = await owner.CreateSessionAsync(agent);
        await owner.SendMessageOkAsync(session, "Hello from the owner");
        return (agent, session);
    }

    private static void AssertValidationProblem(Reply reply, string field)
    {
        Assert.True(reply.Status == HttpStatusCode.BadRequest, reply.Text);
        Assert.Equal("application/problem+json", reply.ContentType);
        var errors = reply.Json["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), reply.Text);
    }

    private static void AssertNotFound(Reply reply)
    {
        Assert.True(reply.Status == HttpStatusCode.NotFound, $"{(int)reply.Status} {reply.Text}");
        Assert.Equal("application/problem+json", reply.ContentType);
        Assert.Equal(404, reply.Json["status"]!.GetValue<int>());
    }
}
