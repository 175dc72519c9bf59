using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using StitchFin.Conversation.Agents;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Responses;
using StitchFin.Conversation.Sessions;
using StitchFin.ServiceDefaults.Data;
using StitchFin.ServiceDefaults.Outbox;

namespace StitchFin.Conversation.Data;

public sealed class ConversationDbContext(DbContextOptions<ConversationDbContext> options) : DbContext(options)
{
    public DbSet<Agent> Agents => Set<Agent>();
    public DbSet<Session> Sessions => Set<Session>();
    public DbSet<SessionMessage> Messages => Set<SessionMessage>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();
    public DbSet<StoredResponse> Responses => Set<StoredResponse>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ConversationDbContext).Assembly);
        modelBuilder.AddOutbox();
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
public sealed class ConversationDbContextFactory : IDesignTimeDbContextFactory<ConversationDbContext>
{
    public ConversationDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<ConversationDbContext>();
        DatabaseExtensions.Configure(options, "Host=localhost;Database=stitchfin_conversation");
        return new ConversationDbContext(options.Options);
    }
}
