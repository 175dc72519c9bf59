using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.EntityFrameworkCore;
using StitchFin.Conversation.Agents;
using StitchFin.Conversation.Data;

namespace StitchFin.Conversation.OpenAi;

public sealed record ModelEntry(
    string Id,
    [property: JsonPropertyName("object")] string Kind,
    long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy);

public sealed record ModelList([property: JsonPropertyName("object")] string Kind, IReadOnlyList<ModelEntry> Data);

/// <summary>
/// A tenant's live agents seen as OpenAI models. A model's id is the agent's name when no other live agent of
/// the tenant has that name, else the agent's id; a request may name an agent by either. Which agent a model names is
/// kept for a few seconds, so a completion's first token waits for no query: agent writes in this process forget a
/// tenant's entries at once, and a deleted agent is still refused by the exchange itself.
/// </summary>
public sealed class AgentModels(IMemoryCache cache)
{
    public static readonly TimeSpan CacheDuration = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Guid, int> _generations = new();

    public const string OwnedBy = "stitchfin";

    public abstract record Resolution
    {
        public sealed record Found(Guid AgentId) : Resolution;

        public sealed record NotFound : Resolution;

        /// <summary>Several live agents share the name: only their ids tell them apart.</summary>
        public sealed record Ambiguous : Resolution;
    }

    public static async Task<List<ModelEntry>> ListAsync(ConversationDbContext db, Guid tenantId, CancellationToken cancellationToken)
    {
        var agents = await db.LiveAgents(tenantId).AsNoTracking()
            .OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id)
            .Select(a => new { a.Id, a.Name, a.CreatedAt })
            .ToListAsync(cancellationToken);
        var namesInUse = agents.CountBy(a => a.Name, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
        return agents.ConvertAll(a => new ModelEntry(
            namesInUse[a.Name] == 1 ? a.Name : a.Id.ToString(), "model", a.CreatedAt.ToUnixTimeSeconds(), OwnedBy));
    }

    /// <summary>Which live agent <paramref name="model"/> names, from the cache when another request asked in the last seconds.</summary>
    public async Task<Resolution> ResolveAsync(ConversationDbContext db, Guid tenantId, string model, CancellationToken cancellationToken)
    {
        var key = (tenantId, _generations.GetValueOrDefault(tenantId), model);
        if (cache.TryGetValue(key, out Resolution.Found? cached))
        {
            return cached!;
        }

        var resolution = await QueryAsync(db, tenantId, model, cancellationToken);
        if (resolution is Resolution.Found found)
        {
            cache.Set(key, found, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = CacheDuration, Size = 1 });
        }

        return resolution;
    }

    /// <summary>Forgets which agents a tenant's models name (an agent of it was written).</summary>
    public void Forget(Guid tenantId) => _generations.AddOrUpdate(tenantId, 1, static (_, generation) => generation + 1);

    private static async Task<Resolution> QueryAsync(ConversationDbContext db, Guid tenantId, string model, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(model, out var id) && await db.LiveAgents(tenantId).AnyAsync(a => a.Id == id, cancellationToken))
        {
            return new Resolution.Found(id);
        }

        var named = await db.LiveAgents(tenantId).Where(a => a.Name == model).Select(a => a.Id).Take(2).ToListAsync(cancellationToken);
        return named.Count switch
        {
            0 => new Resolution.NotFound(),
            1 => new Resolution.Found(named[0]),
            _ => new Resolution.Ambiguous(),
        };
    }

    public static async Task<ModelEntry?> FindAsync(ConversationDbContext db, Guid tenantId, string model, CancellationToken cancellationToken)
    {
        if (await QueryAsync(db, tenantId, model, cancellationToken) is not Resolution.Found found)
        {
            return null;
        }

        var agent = await db.LiveAgents(tenantId).AsNoTracking()
            .Where(a => a.Id == found.AgentId)
            .Select(a => new { a.Name, a.CreatedAt })
            .SingleAsync(cancellationToken);
        var shared = await db.LiveAgents(tenantId).CountAsync(a => a.Name == agent.Name, cancellationToken) > 1;
        return new ModelEntry(shared ? found.AgentId.ToString() : agent.Name, "model", agent.CreatedAt.ToUnixTimeSeconds(), OwnedBy);
    }
}
