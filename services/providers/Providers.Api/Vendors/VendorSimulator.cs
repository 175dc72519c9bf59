using StitchFin.Providers.Randomness;
using StitchFin.Providers.Upstreams;

namespace StitchFin.Providers.Vendors;

/// <summary>A simulated reply: its text, the tokens it reports and the latency it waited.</summary>
public sealed record SimulatedCompletion(string Text, int TokensIn, int TokensOut, int LatencyMs);

/// <summary>What one simulated call produced: a completion, or the vendor's fault.</summary>
public sealed record VendorReply(SimulatedCompletion? Completion, int Status, int? RetryAfterMs);

/// <summary>One simulated vendor: draws latency, fault and output size from its seeded randomness, waits on the injected clock.</summary>
public sealed class VendorSimulator(VendorProfile profile, IRandomSource random, TimeProvider time)
{
    public const int ReplyExcerptLength = 60;
    public const int MinTokensOut = 30;
    public const int MaxTokensOut = 120;

    public VendorProfile Profile => profile;

    public async Task<VendorReply> CompleteAsync(string systemPrompt, string content, CancellationToken cancellationToken)
    {
        // Every draw happens up front and in a fixed order, so one seed gives one sequence of replies.
        var latencyMs = profile.LatenciesMs[random.Next(0, profile.LatenciesMs.Count)];
        var faulted = profile.ErrorRate > 0 && random.NextDouble() < profile.ErrorRate;
        var tokensOut = random.Next(MinTokensOut, MaxTokensOut + 1);
        var retryAfterMs = profile.RetryAfterMs[random.Next(0, profile.RetryAfterMs.Count)];

        if (latencyMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(latencyMs), time, cancellationToken);
        }

        if (faulted)
        {
            var status = profile.Vendor.FaultStatus;
            return new VendorReply(null, status, status == StatusCodes.Status429TooManyRequests ? retryAfterMs : null);
        }

        var text = $"[{profile.Name}] {Excerpt(content)} ...";
        return new VendorReply(new SimulatedCompletion(text, TokenCount.EstimatePrompt(systemPrompt, content), tokensOut, latencyMs), StatusCodes.Status200OK, null);
    }

    /// <summary>The first 60 characters, without cutting a surrogate pair in half.</summary>
    public static string Excerpt(string content)
    {
        if (content.Length <= ReplyExcerptLength)
        {
            return content;
        }

        var length = char.IsHighSurrogate(content[ReplyExcerptLength - 1]) ? ReplyExcerptLength - 1 : ReplyExcerptLength;
        return content[..length];
    }
}

/// <summary>The simulated vendors this process hosts, by route slug.</summary>
public sealed class VendorSimulators
{
    private readonly Dictionary<string, VendorSimulator> _bySlug;

    public VendorSimulators(IEnumerable<VendorSimulator> simulators, ILogger<VendorSimulators> logger)
    {
        _bySlug = simulators.ToDictionary(s => s.Profile.Vendor.Slug, StringComparer.OrdinalIgnoreCase);
        foreach (var profile in _bySlug.Values.Select(s => s.Profile))
        {
            logger.LogInformation(
                "Simulated {Vendor}: mode {Mode}, latencies {Latencies} ms, error rate {ErrorRate}, seed {Seed}",
                profile.Name, profile.Mode, string.Join(",", profile.LatenciesMs), profile.ErrorRate, profile.Seed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "random");
        }
    }

    public VendorSimulator? Find(string slug) => _bySlug.GetValueOrDefault(slug);
}
