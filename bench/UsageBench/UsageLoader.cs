using System.Diagnostics;
using Npgsql;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using StitchFin.Metering.Usage;

namespace StitchFin.Bench;

/// <summary>
/// Loads synthetic completed messages through the consumer's own path in bulk: each event is validated and
/// bucketed by <see cref="UsageEntry.From"/> and counted by <see cref="UsageRollupSql.RecordOnce"/>, batched.
/// </summary>
public sealed class UsageLoader(string connectionString, Guid tenantId, DateOnly firstDay, int days)
{
    private const int BatchSize = 2_000;
    private static readonly string[] Providers = [ProviderNames.VendorA, ProviderNames.VendorB];

    // The default prices of API.md, per 1,000 tokens (input, output).
    private static readonly Dictionary<string, (decimal In, decimal Out)> Prices = new()
    {
        [ProviderNames.VendorA] = (0.0030m, 0.0060m),
        [ProviderNames.VendorB] = (0.0020m, 0.0040m),
    };

    private readonly Guid[] _agents = [.. Enumerable.Range(1, 6).Select(i => new Guid($"00000000-0000-0000-0000-{i:D12}"))];

    /// <summary>Events spread evenly (with jitter) over the days, in time order, as they would arrive.</summary>
    public IEnumerable<MessageCompleted> Generate(int count, int seed)
    {
        var random = new Random(seed);
        var start = ChicagoCalendar.StartOf(firstDay);
        var span = ChicagoCalendar.StartOf(firstDay.AddDays(days)) - start;
        for (var i = 0; i < count; i++)
        {
            var provider = Providers[random.Next(10) < 7 ? 0 : 1];
            var tokensIn = random.Next(1, 2_000);
            var tokensOut = random.Next(30, 121);
            var price = Prices[provider];
            var cost = decimal.Round(tokensIn / 1000m * price.In + tokensOut / 1000m * price.Out, 6, MidpointRounding.AwayFromZero);
            yield return new MessageCompleted(
                Guid.CreateVersion7(), tenantId, _agents[random.Next(_agents.Length)], Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(),
                provider, false, tokensIn, tokensOut, cost, random.Next(80, 2_500), Channels.Text,
                start + span * ((i + random.NextDouble()) / count));
        }
    }

    public async Task<TimeSpan> LoadAsync(IEnumerable<MessageCompleted> events)
    {
        var watch = Stopwatch.StartNew();
        // Auto-preparation parses and plans the statement once instead of once per event.
        var loading = new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 4, AutoPrepareMinUsages = 2 };
        await using var connection = new NpgsqlConnection(loading.ConnectionString);
        await connection.OpenAsync();
        // Bulk loading only: losing the tail of a crashed load is fine, waiting for each flush is not.
        await using (var setting = new NpgsqlCommand("SET synchronous_commit = off", connection))
        {
            await setting.ExecuteNonQueryAsync();
        }

        var loaded = 0;
        foreach (var chunk in events.Chunk(BatchSize))
        {
            var processedAt = DateTimeOffset.UtcNow;
            await using var transaction = await connection.BeginTransactionAsync();
            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var message in chunk)
            {
                batch.BatchCommands.Add(UsageRollupSql.BatchCommand(UsageEntry.From(message), processedAt));
            }

            await batch.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
            loaded += chunk.Length;
            if (loaded % 100_000 == 0)
            {
                Console.WriteLine($"  loaded {loaded:N0} events ({watch.Elapsed.TotalSeconds:F0} s)");
            }
        }

        // Autovacuum would get there eventually; measuring queries against a settled table makes runs comparable.
        foreach (var table in new[] { "usage_rollups", "usage_days", "processed_events" })
        {
            await using var vacuum = new NpgsqlCommand($"VACUUM ANALYZE {table}", connection) { CommandTimeout = 600 };
            await vacuum.ExecuteNonQueryAsync();
        }

        return watch.Elapsed;
    }
}
