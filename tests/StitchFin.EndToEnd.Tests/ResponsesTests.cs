// The SDK marks its whole Responses client as evaluation-only (OPENAI001); it is what Codex-style clients speak.
#pragma warning disable OPENAI001
using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenAI.Responses;
using StitchFin.Testing.Upstream;

namespace StitchFin.EndToEnd.Tests;

/// <summary>
/// OpenAI's Responses API through the edge, driven by the official OpenAI .NET SDK against an agent whose models live on
/// the fault-injecting upstream: whole and streamed responses, continuing with <c>previous_response_id</c>, a function
/// tool round trip, and the upstream's faults as a Responses client sees them.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ResponsesTests(StitchFinSystem system)
{
    [Fact]
    public async Task A_response_is_the_upstreams_reply_stored_metered_and_continued_at_once_with_the_whole_conversation()
    {
        var agent = await UpstreamAgent.CreateAsync(system,
            [UpstreamStep.Reply("Mars has two moons.", new UpstreamUsage(17, 6, CachedTokens: 10)), UpstreamStep.Reply("Phobos and Deimos.", new UpstreamUsage(30, 5))]);
        var client = Client(agent);

        ResponseResult first = await client.CreateResponseAsync(new CreateResponseOptions(agent.Name, [ResponseItem.CreateUserMessageItem("How many moons has Mars?")]));
        // Continued immediately: the first response is readable the moment its answer arrived.
        ResponseResult second = await client.CreateResponseAsync(new CreateResponseOptions(agent.Name, [ResponseItem.CreateUserMessageItem("Name them.")])
        {
            PreviousResponseId = first.Id,
            Instructions = "Answer briefly.",
        });

        Assert.Equal(("Mars has two moons.", ResponseStatus.Completed, agent.Primary), (first.GetOutputText(), first.Status, first.Model));
        Assert.Equal((17, 10, 6, 23), (first.Usage.InputTokenCount, first.Usage.InputTokenDetails.CachedTokenCount, first.Usage.OutputTokenCount, first.Usage.TotalTokenCount));
        Assert.Equal(("Phobos and Deimos.", first.Id), (second.GetOutputText(), second.PreviousResponseId));
        var requests = system.Upstream.RequestsFor(agent.Primary);
        Assert.Equal(2, requests.Count);
        Assert.Equal(
            [
                new UpstreamMessage("system", UpstreamAgent.SystemPrompt),
                new UpstreamMessage("system", "Answer briefly."),
                new UpstreamMessage("user", "How many moons has Mars?"),
                new UpstreamMessage("assistant", "Mars has two moons."),
                new UpstreamMessage("user", "Name them."),
            ],
            requests[1].Messages);

        ResponseResult read = await client.GetResponseAsync(first.Id);
        Assert.Equal((first.Id, "Mars has two moons.", 17, 10), (read.Id, read.GetOutputText(), read.Usage.InputTokenCount, read.Usage.InputTokenDetails.CachedTokenCount));
        var inputItems = await client.GetResponseInputItemsAsync(second.Id).ToListAsync();
        Assert.Equal("Name them.", Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(inputItems)).Content[0].Text);

        var usage = await agent.Tenant.WaitForUsageAsync(2, TimeSpan.FromSeconds(10));
        Assert.Equal(2, usage["totals"]!["messages"]!.GetValue<int>());
        Assert.Equal(UpstreamAgent.Cost(17, 6) + UpstreamAgent.Cost(30, 5), usage["totals"]!["costUsd"]!.GetValue<decimal>());

        ResponseDeletionResult deleted = await client.DeleteResponseAsync(first.Id);
        Assert.True(deleted.Deleted);
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(first.Id));
        Assert.Equal(404, gone.Status);
    }

    [Fact]
    public async Task A_streamed_response_relays_each_chunk_as_it_arrives_and_completes_with_the_usage()
    {
        var firstReceived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const string Text = "Streams arrive a word at a time";
        var words = Text.Split(' ').Length;
        // The last chunk is held until the client has the first: a buffer anywhere on the way would time this out.
        var agent = await UpstreamAgent.CreateAsync(system, [UpstreamStep.Reply(Text, new UpstreamUsage(20, 7), chunkSpacing: TimeSpan.FromMilliseconds(50),
            beforeChunk: i => i == words - 1 ? firstReceived.Task.WaitAsync(TimeSpan.FromSeconds(30)) : Task.CompletedTask)]);

        var kinds = new List<string>();
        var deltas = new List<string>();
        ResponseResult? completed = null;
        long firstAt = 0;
        var updates = await Client(agent).CreateResponseStreamingAsync(
            new CreateResponseOptions(agent.Name, [ResponseItem.CreateUserMessageItem("Tell me about streams")]) { StreamingEnabled = true });
        await foreach (var update in updates)
        {
            kinds.Add(update.GetType().Name);
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    if (deltas.Count == 0)
                    {
                        firstAt = Stopwatch.GetTimestamp();
                        firstReceived.TrySetResult();
                    }

                    deltas.Add(delta.Delta);
                    break;
                case StreamingResponseCompletedUpdate done:
                    completed = done.Response;
                    break;
            }
        }

        Assert.Equal(Text, string.Concat(deltas));
        Assert.Equal(words, deltas.Count);
        Assert.Equal(nameof(StreamingResponseCreatedUpdate), kinds[0]);
        Assert.Equal(nameof(StreamingResponseCompletedUpdate), kinds[^1]);
        Assert.NotNull(completed);
        Assert.Equal((Text, 20, 7), (completed.GetOutputText(), completed.Usage.InputTokenCount, completed.Usage.OutputTokenCount));
        var request = Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        Assert.True(firstAt < request.ChunkSentAt[^1], "the first delta arrived only after the upstream had sent its last chunk");
        Assert.Equal(UpstreamAgent.Cost(20, 7), (await agent.Tenant.WaitForUsageAsync(1, TimeSpan.FromSeconds(10)))["totals"]!["costUsd"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_function_tool_call_goes_to_the_client_and_its_output_goes_back_to_the_upstream()
    {
        var agent = await UpstreamAgent.CreateAsync(system,
        [
            UpstreamStep.ToolCalls([new UpstreamToolCall("call_weather_1", "get_weather", """{"city":"Paris"}""")]),
            UpstreamStep.Reply("It is sunny in Paris."),
        ]);
        var client = Client(agent);
        var tool = ResponseTool.CreateFunctionTool("get_weather",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""), strictModeEnabled: false, "The weather in a city");

        ResponseResult call = await client.CreateResponseAsync(new CreateResponseOptions(agent.Name, [ResponseItem.CreateUserMessageItem("Weather in Paris?")]) { Tools = { tool } });
        var functionCall = Assert.IsType<FunctionCallResponseItem>(Assert.Single(call.OutputItems));
        Assert.Equal(("call_weather_1", "get_weather", """{"city":"Paris"}"""), (functionCall.CallId, functionCall.FunctionName, functionCall.FunctionArguments.ToString()));

        var answer = await client.CreateResponseStreamingAsync(new CreateResponseOptions(agent.Name, [ResponseItem.CreateFunctionCallOutputItem("call_weather_1", "sunny, 24 C")])
        {
            PreviousResponseId = call.Id,
            Tools = { tool },
            StreamingEnabled = true,
        });
        ResponseResult? completed = null;
        await foreach (var update in answer)
        {
            completed = (update as StreamingResponseCompletedUpdate)?.Response ?? completed;
        }

        Assert.Equal("It is sunny in Paris.", completed!.GetOutputText());
        var requests = system.Upstream.RequestsFor(agent.Primary);
        var first = JsonNode.Parse(requests[0].Body)!;
        Assert.Equal(("function", "get_weather"), (first["tools"]![0]!["type"]!.GetValue<string>(), first["tools"]![0]!["function"]!["name"]!.GetValue<string>()));
        var messages = JsonNode.Parse(requests[1].Body)!["messages"]!.AsArray();
        var assistant = messages[^2]!;
        Assert.Equal("assistant", assistant["role"]!.GetValue<string>());
        var sent = assistant["tool_calls"]![0]!;
        Assert.Equal(("call_weather_1", "get_weather", """{"city":"Paris"}"""),
            (sent["id"]!.GetValue<string>(), sent["function"]!["name"]!.GetValue<string>(), sent["function"]!["arguments"]!.GetValue<string>()));
        var output = messages[^1]!;
        Assert.Equal(("tool", "call_weather_1", "sunny, 24 C"),
            (output["role"]!.GetValue<string>(), output["tool_call_id"]!.GetValue<string>(), output["content"]!.GetValue<string>()));
        Assert.Equal(2, (await agent.Tenant.WaitForUsageAsync(2, TimeSpan.FromSeconds(10)))["totals"]!["messages"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_stream_cut_midway_ends_in_response_failed_and_is_neither_stored_nor_charged()
    {
        var agent = await UpstreamAgent.CreateAsync(system, [UpstreamStep.CutAfter(2, "This will not be finished today")], [UpstreamStep.Reply("never used")]);

        var events = await RawStreamAsync(agent, "Start something");

        Assert.Equal("response.failed", events[^1].Event);
        Assert.Equal(2, events.Count(e => e.Event == "response.output_text.delta"));
        Assert.DoesNotContain(events, e => e.Event == "response.completed");
        Assert.Equal("failed", events[^1].Data["response"]!["status"]!.GetValue<string>());
        Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        Assert.Empty(system.Upstream.RequestsFor(agent.Fallback!));
        var id = events[0].Data["response"]!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NotFound, (await agent.Tenant.Client.GetAsync($"/v1/responses/{id}")).StatusCode);
        await agent.AssertNothingStoredOrChargedAsync();
    }

    [Fact]
    public async Task A_stream_that_stalls_midway_ends_in_response_failed_after_the_idle_limit()
    {
        var agent = await UpstreamAgent.CreateAsync(system, [UpstreamStep.StallAfter(2, "Waiting for the rest of this")]);

        var events = await RawStreamAsync(agent, "Go");

        Assert.Equal("response.failed", events[^1].Event);
        Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        await agent.AssertNothingStoredOrChargedAsync();
    }

    [Fact]
    public async Task A_429_with_retry_after_is_retried_after_the_wait_and_then_answers()
    {
        var agent = await UpstreamAgent.CreateAsync(system, [UpstreamStep.RateLimited(retryAfter: TimeSpan.FromSeconds(1)), UpstreamStep.Reply("After the wait.")]);

        ResponseResult response = await Client(agent).CreateResponseAsync(agent.Name, "Please");

        Assert.Equal("After the wait.", response.GetOutputText());
        var requests = system.Upstream.RequestsFor(agent.Primary);
        Assert.Equal(2, requests.Count);
        Assert.True(Stopwatch.GetElapsedTime(requests[0].ReceivedAt, requests[1].ReceivedAt) >= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Context_length_exceeded_fails_over_and_the_response_names_the_model_that_answered()
    {
        var agent = await UpstreamAgent.CreateAsync(system, [UpstreamStep.ContextLengthExceeded()], [UpstreamStep.Reply("I have a bigger window.", reportedModel: "big-window-1")]);

        ResponseResult response = await Client(agent).CreateResponseAsync(agent.Name, "A very long conversation");

        Assert.Equal(("I have a bigger window.", "big-window-1"), (response.GetOutputText(), response.Model));
        Assert.Single(system.Upstream.RequestsFor(agent.Primary));
    }

    [Fact]
    public async Task A_content_policy_refusal_is_an_openai_error_without_failover_or_charge()
    {
        var agent = await UpstreamAgent.CreateAsync(system, [UpstreamStep.ContentPolicyViolation()], [UpstreamStep.Reply("never used")]);

        using var response = await agent.Tenant.Client.PostAsJsonAsync("/v1/responses", new { model = agent.Name, input = "Something unsafe" });
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("content_policy_violation", error["code"]!.GetValue<string>());
        Assert.Empty(system.Upstream.RequestsFor(agent.Fallback!));
        await agent.AssertNothingStoredOrChargedAsync();
    }

    [Fact]
    public async Task The_responses_api_needs_a_key_and_answers_bad_input_with_an_openai_error()
    {
        var agent = await UpstreamAgent.CreateAsync(system, [UpstreamStep.Reply("never used")]);

        using var anonymous = await system.CreateClient().PostAsJsonAsync("/v1/responses", new { model = agent.Name, input = "Hi" });
        using var noInput = await agent.Tenant.Client.PostAsJsonAsync("/v1/responses", new { model = agent.Name });
        using var unknownPrevious = await agent.Tenant.Client.PostAsJsonAsync("/v1/responses",
            new { model = agent.Name, input = "Hi", previous_response_id = "resp_00000000000000000000000000000000" });

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noInput.StatusCode);
        Assert.Equal("input", JsonNode.Parse(await noInput.Content.ReadAsStringAsync())!["error"]!["param"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, unknownPrevious.StatusCode);
        Assert.Empty(system.Upstream.RequestsFor(agent.Primary));
    }

    private ResponsesClient Client(UpstreamAgent agent) =>
        new(new ApiKeyCredential(agent.Tenant.ApiKey), new ResponsesClientOptions { Endpoint = new Uri(system.EdgeUrl, "/v1") });

    /// <summary>A streamed response read as raw server-sent events, so a failed stream's every event can be checked.</summary>
    private static async Task<List<(string Event, JsonNode Data)>> RawStreamAsync(UpstreamAgent agent, string input)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = JsonContent.Create(new { model = agent.Name, input, stream = true }) };
        using var response = await agent.Tenant.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = new List<(string, JsonNode)>();
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync())
        {
            events.Add((item.EventType, JsonNode.Parse(item.Data)!));
        }

        return events;
    }
}
