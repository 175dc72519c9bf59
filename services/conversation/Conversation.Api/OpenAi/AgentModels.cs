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

/// <summary>A page of models as OpenAI's cursor lists have it: <c>has_more</c>, and the page's first and last ids.</summary>
public sealed record ModelList(
    [property: JsonPropertyName("object")] string Kind,
    IReadOnlyList<ModelEntry> Data,
    [property: JsonPropertyName("first_id")] string? FirstId,
    [property: JsonPropertyName("last_id")] string? LastId,
    [property: JsonPropertyName("has_more")] bool HasMore);

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

    /// <summary>
    /// The most models one page of <c>GET /v1/models</c> holds, and the page size when none is asked for: OpenAI's SDKs
    /// read only the first page of the models list, so without parameters it is every agent of all but the largest tenants.
    /// </summary>
    public const int MaxListLimit = 1000;

    /// <summary>
    /// A page of the tenant's models, newest agent first (then by id), after the agent <paramref name="after"/> (the
    /// previous page's last) when given. Whether a name is shared is counted among all live agents, not only the page's.
    /// </summary>
    public static async Task<ModelList> ListAsync(
        ConversationDbContext db, Guid tenantId, (DateTimeOffset CreatedAt, Guid Id)? after, int limit, CancellationToken cancellationToken)
    {
        var agents = db.LiveAgents(tenantId).AsNoTracking();
        if (after is { } cursor)
        {
            var (createdAt, id) = cursor;
            agents = agents.Where(a => EF.Functions.LessThan(ValueTuple.Create(a.CreatedAt, a.Id), ValueTuple.Create(createdAt, id)));
        }

        var page = await agents
            .OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id)
            .Select(a => new { a.Id, a.Name, a.CreatedAt })
            .Take(limit + 1)
            .ToListAsync(cancellationToken);
        var hasMore = page.Count > limit;
        page = page.Take(limit).ToList();

        var names = page.Select(a => a.Name).Distinct(StringComparer.Ordinal).ToList();
        var shared = (await db.LiveAgents(tenantId)
            .Where(a => names.Contains(a.Name))
            .GroupBy(a => a.Name)
            .Where(g => g.Count() > 1)
            .Select(g => g.Key)
            .ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var entries = page.ConvertAll(a => new ModelEntry(
            shared.Contains(a.Name) ? a.Id.ToString() : a.Name, "model", a.CreatedAt.ToUnixTimeSeconds(), OwnedBy));
        return new ModelList("list", entries, entries.FirstOrDefault()?.Id, entries.LastOrDefault()?.Id, hasMore);
    }

    /// <summary>Where a page of models named by <paramref name="model"/> (a previous page's <c>last_id</c>) goes on: that agent's place in the list.</summary>
    public static async Task<(DateTimeOffset CreatedAt, Guid Id)?> PlaceAsync(ConversationDbContext db, Guid tenantId, string model, CancellationToken cancellationToken)
    {
        if (await QueryAsync(db, tenantId, model, cancellationToken) is not Resolution.Found found)
        {
            return null;
        }

        var createdAt = await db.LiveAgents(tenantId).Where(a => a.Id == found.AgentId).Select(a => (DateTimeOffset?)a.CreatedAt).SingleOrDefaultAsync(cancellationToken);
        return createdAt is { } time ? (time, found.AgentId) : null;
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
