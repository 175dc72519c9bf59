using System.Diagnostics;
using StitchFin.Testing.Upstream;

namespace StitchFin.EndToEnd.Tests;

/// <summary>
/// The npm <c>openai</c> and <c>@anthropic-ai/sdk</c> clients (web/e2e/sdk-clients.e2e.mjs) streaming through the edge
/// against an agent on the fault-injecting upstream: what JavaScript agents use, with the versions web/ pins.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class NpmSdkTests(StitchFinSystem system)
{
    [Fact]
    public async Task The_npm_openai_and_anthropic_clients_stream_a_reply_and_each_is_metered()
    {
        const string OpenAiReply = "Hello npm, from a streamed response.";
        const string AnthropicReply = "Hello npm, from a streamed message.";
        var agent = await UpstreamAgent.CreateAsync(system,
        [
            UpstreamStep.Reply(OpenAiReply, new UpstreamUsage(12, 8)),
            UpstreamStep.Reply(AnthropicReply, new UpstreamUsage(14, 8)),
        ]);
        var web = Path.Combine(RepositoryRoot.Path, "web");
        Assert.True(Directory.Exists(Path.Combine(web, "node_modules", "@anthropic-ai")), "web/node_modules is missing: npm ci in web/ first (test.sh does)");
        var start = new ProcessStartInfo("node", ["e2e/sdk-clients.e2e.mjs"])
        {
            WorkingDirectory = web,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["EDGE_URL"] = system.EdgeUrl.ToString();
        start.Environment["API_KEY"] = agent.Tenant.ApiKey;
        start.Environment["MODEL"] = agent.Name;
        start.Environment["OPENAI_REPLY"] = OpenAiReply;
        start.Environment["ANTHROPIC_REPLY"] = AnthropicReply;

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 0, $"{await output}\n{await errors}");
        Assert.EndsWith("2 passed, 0 failed", (await output).TrimEnd(), StringComparison.Ordinal);
        var requests = system.Upstream.RequestsFor(agent.Primary);
        Assert.Equal(2, requests.Count);
        Assert.All(requests, r => Assert.True(r.Stream, "the client's stream was not streamed from the upstream"));
        var usage = await agent.Tenant.WaitForUsageAsync(2, TimeSpan.FromSeconds(10));
        Assert.Equal(UpstreamAgent.Cost(12, 8) + UpstreamAgent.Cost(14, 8), usage["totals"]!["costUsd"]!.GetValue<decimal>());
    }
}
