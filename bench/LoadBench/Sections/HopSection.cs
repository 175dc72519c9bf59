using StitchFin.LoadBench.Load;
using StitchFin.LoadBench.Reporting;
using StitchFin.LoadBench.Targets;

namespace StitchFin.LoadBench.Sections;

/// <summary>
/// Section 2: what each hop costs. The same request straight to a service, through a bare in-process YARP hop and
/// through the edge, interleaved in rounds so drift on a shared machine hits every target alike.
/// </summary>
public static class HopSection
{
    private const double TargetEdgeOverBareYarpMs = 1;
    private static readonly TimeSpan TargetWarmup = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RoundRamp = TimeSpan.FromMilliseconds(250);

    private sealed record HopTarget(string Label, int Connections, LoadOperation Operation, string OperationName);

    public static async Task RunAsync(BenchContext context, LoadResult throughput, CancellationToken cancellationToken)
    {
        var options = context.Options;
        var system = context.System;
        var n = options.Clients;
        var providersIdentity = SignedIdentityHandler.For(context.SigningKey, context.Tenant.Id, "providers");
        var tenancyIdentity = SignedIdentityHandler.For(context.SigningKey, context.Tenant.Id, "tenancy");
        await using var yarp = await BareYarpProxy.StartAsync(system.ServiceUrl("providers"), system.ServiceUrl("tenancy"), cancellationToken);
        Progress.Write($"section 2: bare YARP hop listening on {yarp.Url}");

        using var providersDirect1 = BenchHttp.ForInternal(system.ServiceUrl("providers"), providersIdentity, 1);
        using var providersYarp1 = BenchHttp.ForInternal(yarp.Url, providersIdentity, 1);
        using var providersDirectN = BenchHttp.ForInternal(system.ServiceUrl("providers"), providersIdentity, n);
        using var providersYarpN = BenchHttp.ForInternal(yarp.Url, providersIdentity, n);
        using var edgeMessages1 = BenchHttp.ForEdge(system.EdgeUrl, context.Tenant.ApiKey, 1);
        using var tenancyDirect1 = BenchHttp.ForInternal(system.ServiceUrl("tenancy"), tenancyIdentity, 1);
        using var tenancyYarp1 = BenchHttp.ForInternal(yarp.Url, tenancyIdentity, 1);
        using var edgeMe1 = BenchHttp.ForEdge(system.EdgeUrl, context.Tenant.ApiKey, 1);
        var conversation1 = new EdgeConversationWorkload(edgeMessages1, context.AgentId, 1, options.MessagesPerSession);
        AgentApiWorkload[] agentApis =
        [
            AgentApiWorkload.ChatCompletion(edgeMessages1, context.AgentId),
            AgentApiWorkload.Response(edgeMessages1, context.AgentId),
            AgentApiWorkload.Message(edgeMessages1, context.AgentId),
        ];
        var agentApiTargets = agentApis.Select(api => new HopTarget("edge → conversation → providers", 1, api.NextAsync, api.Operation)).ToArray();

        var providersDirect1Target = Completion("providers direct", 1, providersDirect1);
        var providersYarp1Target = Completion("providers via bare YARP", 1, providersYarp1);
        var edgeMessages1Target = new HopTarget("edge → conversation → providers", 1, conversation1.NextAsync, EdgeConversationWorkload.SendMessage);
        var providersDirectNTarget = Completion("providers direct", n, providersDirectN);
        var providersYarpNTarget = Completion("providers via bare YARP", n, providersYarpN);
        var tenancyDirect1Target = TenantsMe("tenancy direct", tenancyDirect1);
        var tenancyYarp1Target = TenantsMe("tenancy via bare YARP", tenancyYarp1);
        var edgeMe1Target = TenantsMe("edge → tenancy", edgeMe1);

        var results = new Dictionary<HopTarget, LoadResult>();
        await MeasureInterleavedAsync([providersDirect1Target, providersYarp1Target, edgeMessages1Target, .. agentApiTargets], options, results, cancellationToken);
        await MeasureInterleavedAsync([providersDirectNTarget, providersYarpNTarget], options, results, cancellationToken);
        await MeasureInterleavedAsync([tenancyDirect1Target, tenancyYarp1Target, edgeMe1Target], options, results, cancellationToken);
        context.CountAnswered(conversation1.MessagesAnswered + agentApis.Sum(api => api.MessagesAnswered));

        var output = context.Output;
        output.WriteLine("## 2. Per-hop latency");
        output.WriteLine();
        output.WriteLine($"Each target runs {Format.Seconds(options.HopDuration)} in {options.Rounds} interleaved round(s) after a "
            + $"{Format.Seconds(TargetWarmup)} warm-up. Direct calls carry an identity signed like the edge's; the bare YARP hop "
            + "runs inside the bench process with default settings. `N` rows at the throughput run's concurrency.");
        output.WriteLine();
        var table = BenchContext.LoadTable("Path");
        foreach (var target in (HopTarget[])[providersDirect1Target, providersYarp1Target, edgeMessages1Target, .. agentApiTargets, providersDirectNTarget, providersYarpNTarget])
        {
            BenchContext.AddLoadRow(table, $"{target.Label}: `{target.OperationName}`", target.Connections, results[target], target.OperationName);
        }

        BenchContext.AddLoadRow(table, $"edge → conversation → providers (section 1): `{EdgeConversationWorkload.SendMessage}`", n,
            throughput, EdgeConversationWorkload.SendMessage);
        foreach (var target in new[] { tenancyDirect1Target, tenancyYarp1Target, edgeMe1Target })
        {
            BenchContext.AddLoadRow(table, $"{target.Label}: `{target.OperationName}`", target.Connections, results[target], target.OperationName);
        }

        table.WriteTo(output);

        double P50(HopTarget target) => results[target][target.OperationName].Latencies.Summarize().P50;
        var endToEndN = throughput[EdgeConversationWorkload.SendMessage].Latencies.Summarize().P50;
        var edgeOverBareYarp = P50(edgeMe1Target) - P50(tenancyYarp1Target);

        var derived = new MarkdownTable("At p50", "1 connection>", $"{n} connections>");
        derived.Add("Edge + conversation add (end-to-end message − direct providers)",
            Format.DeltaMs(P50(edgeMessages1Target) - P50(providersDirect1Target)), Format.DeltaMs(endToEndN - P50(providersDirectNTarget)));
        foreach (var target in agentApiTargets)
        {
            derived.Add($"Edge + conversation add for `{target.OperationName}` (whole reply − direct providers)",
                Format.DeltaMs(P50(target) - P50(providersDirect1Target)), Format.None);
        }

        derived.Add("Bare YARP hop in front of providers (YARP − direct)",
            Format.DeltaMs(P50(providersYarp1Target) - P50(providersDirect1Target)), Format.DeltaMs(P50(providersYarpNTarget) - P50(providersDirectNTarget)));
        derived.Add("Edge authentication and routing overhead (edge − direct tenancy, `GET /tenants/me`)",
            Format.DeltaMs(P50(edgeMe1Target) - P50(tenancyDirect1Target)), Format.None);
        derived.Add("Bare YARP hop in front of tenancy (YARP − direct, `GET /tenants/me`)",
            Format.DeltaMs(P50(tenancyYarp1Target) - P50(tenancyDirect1Target)), Format.None);
        derived.Add("Edge over a bare YARP hop (edge − YARP, `GET /tenants/me`)", Format.DeltaMs(edgeOverBareYarp), Format.None);
        derived.WriteTo(output);

        var errors = new[] { edgeMe1Target, tenancyYarp1Target }.Sum(t => results[t][t.OperationName].ErrorCount);
        context.Targets.Add("Edge overhead over a bare YARP hop, p50 (1 connection)", $"<= {TargetEdgeOverBareYarpMs:0} ms",
            Format.DeltaMs(edgeOverBareYarp), !double.IsNaN(edgeOverBareYarp) && edgeOverBareYarp <= TargetEdgeOverBareYarpMs && errors == 0,
            errors == 0 ? null : $"{errors} errors");
    }

    private static HopTarget Completion(string label, int connections, HttpClient client) =>
        new(label, connections, new CompletionWorkload(client).NextAsync, CompletionWorkload.Operation);

    private static HopTarget TenantsMe(string label, HttpClient client) =>
        new(label, 1, new TenantsMeWorkload(client).NextAsync, TenantsMeWorkload.Operation);

    private static async Task MeasureInterleavedAsync(
        IReadOnlyList<HopTarget> targets, BenchOptions options, Dictionary<HopTarget, LoadResult> results, CancellationToken cancellationToken)
    {
        foreach (var target in targets)
        {
            Progress.Write($"section 2: warming up {target.Label}, {target.OperationName} ({target.Connections} conn)");
            await ClosedLoop.RunAsync(target.Connections, TimeSpan.Zero, TargetWarmup, target.Operation, cancellationToken);
        }

        var slice = options.HopDuration / options.Rounds;
        var rounds = targets.ToDictionary(t => t, _ => new List<LoadResult>());
        for (var round = 1; round <= options.Rounds; round++)
        {
            foreach (var target in targets)
            {
                Progress.Write($"section 2: round {round}/{options.Rounds}, {target.Label}, {target.OperationName} ({target.Connections} conn)");
                rounds[target].Add(await ClosedLoop.RunAsync(target.Connections, RoundRamp, slice, target.Operation, cancellationToken));
            }
        }

        foreach (var (target, measured) in rounds)
        {
            results[target] = LoadResult.Combine(measured);
        }
    }
}
