using Microsoft.Extensions.Time.Testing;
using StitchFin.Providers.Randomness;
using StitchFin.Providers.Upstreams;
using StitchFin.Providers.Vendors;

namespace StitchFin.Providers.Tests;

public sealed class VendorSimulatorTests
{
    private const string SystemPrompt = "You are a terse assistant.";

    private readonly FakeTimeProvider _time = new();

    public static TheoryData<string> Vendors => [SimulatedVendor.VendorA.Name, SimulatedVendor.VendorB.Name];

    [Theory]
    [MemberData(nameof(Vendors))]
    public async Task Replies_follow_the_format_and_token_rules(string name)
    {
        var simulator = Simulator(name, new VendorOptions { ErrorRate = 0 }, seed: 5);
        var content = "Please summarise the quarterly numbers for the board, with the regional split and a short outlook.";

        var tokensOut = new HashSet<int>();
        for (var i = 0; i < 300; i++)
        {
            var reply = await RunAsync(simulator, content);
            var completion = reply.Completion!;
            Assert.Equal($"[{name}] {content[..60]} ...", completion.Text);
            Assert.Equal((int)Math.Ceiling(TokenCount.Prompt(SystemPrompt, content).Length / 4.0), completion.TokensIn);
            Assert.InRange(completion.TokensOut, 30, 120);
            tokensOut.Add(completion.TokensOut);
        }

        // The draw spans the range rather than sticking to one value.
        Assert.True(tokensOut.Count > 50, $"only {tokensOut.Count} distinct tokensOut values");
    }

    [Fact]
    public async Task Short_messages_are_quoted_whole_and_tokens_in_counts_the_whole_prompt()
    {
        var simulator = Simulator(SimulatedVendor.VendorB.Name, new VendorOptions { Mode = VendorModes.Fast }, seed: 1);

        var reply = await simulator.CompleteAsync("", "Hi", CancellationToken.None);

        Assert.Equal("[VendorB] Hi ...", reply.Completion!.Text);
        Assert.Equal(5, reply.Completion.TokensIn); // "SYSTEM: \nUSER: Hi" is 17 characters.
        Assert.Equal(0, reply.Completion.LatencyMs);
        Assert.Equal(4, TokenCount.EstimatePrompt("", "")); // The prompt frame alone is 15 characters.
    }

    [Fact]
    public void Excerpt_never_splits_a_surrogate_pair()
    {
        var content = new string('a', 59) + "😀" + "tail";
        Assert.Equal(new string('a', 59), VendorSimulator.Excerpt(content));
        Assert.Equal(new string('b', 60), VendorSimulator.Excerpt(new string('b', 90)));
    }

    [Theory]
    [MemberData(nameof(Vendors))]
    public async Task Latency_comes_from_the_vendors_set(string name)
    {
        var simulator = Simulator(name, new VendorOptions { ErrorRate = 0 }, seed: 9);
        var expected = SimulatedVendor.All.Single(v => v.Name == name).DefaultLatenciesMs;

        var seen = new HashSet<int>();
        for (var i = 0; i < 200; i++)
        {
            seen.Add((await RunAsync(simulator, "How long?")).Completion!.LatencyMs);
        }

        Assert.Equal(expected.Order(), seen.Order());
    }

    [Fact]
    public async Task The_vendor_answers_only_after_its_latency_has_passed()
    {
        var simulator = Simulator(SimulatedVendor.VendorA.Name, new VendorOptions { LatenciesMs = [400], ErrorRate = 0 }, seed: 3);

        var call = simulator.CompleteAsync(SystemPrompt, "wait for it", CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(399));
        Assert.False(call.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(400, (await call.WaitAsync(TimeSpan.FromSeconds(10))).Completion!.LatencyMs);
    }

    [Fact]
    public async Task VendorA_fails_about_ten_percent_of_calls_with_500()
    {
        var simulator = Simulator(SimulatedVendor.VendorA.Name, new VendorOptions { LatenciesMs = [0] }, seed: 21);

        var replies = await Task.WhenAll(Enumerable.Range(0, 2_000).Select(_ => simulator.CompleteAsync(SystemPrompt, "x", CancellationToken.None)));

        var faults = replies.Where(r => r.Completion is null).ToList();
        Assert.All(faults, r => Assert.Equal(500, r.Status));
        Assert.All(faults, r => Assert.Null(r.RetryAfterMs));
        Assert.InRange(faults.Count, 150, 250);
    }

    [Fact]
    public async Task VendorB_rate_limits_about_fifteen_percent_of_calls_with_retry_after()
    {
        var simulator = Simulator(SimulatedVendor.VendorB.Name, new VendorOptions { LatenciesMs = [0] }, seed: 22);

        var replies = await Task.WhenAll(Enumerable.Range(0, 2_000).Select(_ => simulator.CompleteAsync(SystemPrompt, "x", CancellationToken.None)));

        var faults = replies.Where(r => r.Completion is null).ToList();
        Assert.All(faults, r => Assert.Equal(429, r.Status));
        Assert.All(faults, r => Assert.Contains(r.RetryAfterMs!.Value, SimulatedVendor.DefaultRetryAfterMs));
        Assert.InRange(faults.Count, 240, 360);
    }

    [Fact]
    public async Task Failing_mode_always_faults_and_the_same_seed_replays_the_same_replies()
    {
        var failing = Simulator(SimulatedVendor.VendorA.Name, new VendorOptions { Mode = VendorModes.Failing }, seed: 4);
        Assert.All(await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => failing.CompleteAsync("", "x", CancellationToken.None))),
            r => Assert.Equal(500, r.Status));

        var first = Simulator(SimulatedVendor.VendorA.Name, new VendorOptions { LatenciesMs = [0] }, seed: 8);
        var second = Simulator(SimulatedVendor.VendorA.Name, new VendorOptions { LatenciesMs = [0] }, seed: 8);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(await first.CompleteAsync("", "same", CancellationToken.None), await second.CompleteAsync("", "same", CancellationToken.None));
        }
    }

    private VendorSimulator Simulator(string name, VendorOptions vendor, int seed)
    {
        var options = new VendorsOptions();
        options.Vendors[name] = vendor;
        var profile = options.Resolve(SimulatedVendor.All.Single(v => v.Name == name));
        return new VendorSimulator(profile, new SeededRandom(seed), _time);
    }

    /// <summary>One call, with the fake clock moved past the longest latency any vendor has.</summary>
    private async Task<VendorReply> RunAsync(VendorSimulator simulator, string content)
    {
        var call = simulator.CompleteAsync(SystemPrompt, content, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(2_500));
        return await call.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
