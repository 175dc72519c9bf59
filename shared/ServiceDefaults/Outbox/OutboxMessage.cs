using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace StitchFin.ServiceDefaults.Outbox;

/// <summary>An event written in the same transaction as the state change it announces; the relay publishes it.</summary>
public sealed class OutboxMessage
{
    public long Id { get; set; }
    public Guid MessageId { get; set; }
    public required string MessageType { get; set; }
    public required string Payload { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The W3C traceparent of the request that wrote it, so the publish continues that trace.</summary>
    public string? TraceParent { get; set; }

    /// <summary>How many times the relay found the row unpublishable (a type or payload it cannot read).</summary>
    public int FailedAttempts { get; set; }

    /// <summary>When the relay moved the row aside after too many failed attempts; parked rows are never relayed.</summary>
    public DateTimeOffset? ParkedAt { get; set; }
}

public static class OutboxModel
{
    public static ModelBuilder AddOutbox(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<OutboxMessage>(entity =>
        {
            entity.ToTable("outbox_messages");
            entity.HasKey(m => m.Id);
            entity.Property(m => m.Id).UseIdentityAlwaysColumn();
            entity.Property(m => m.MessageType).HasMaxLength(200);
            entity.Property(m => m.Payload).HasColumnType("jsonb");
            entity.Property(m => m.TraceParent).HasMaxLength(128);
        });
        return modelBuilder;
    }

    /// <summary>Stages <paramref name="message"/> for publishing when the caller's SaveChanges commits.</summary>
    public static void AddOutboxMessage<T>(this DbContext db, Guid messageId, T message, DateTimeOffset now)
        where T : class =>
        db.Set<OutboxMessage>().Add(For(messageId, message, now));

    /// <summary>The outbox row for <paramref name="message"/>, for callers that write it with their own SQL.</summary>
    public static OutboxMessage For<T>(Guid messageId, T message, DateTimeOffset now)
        where T : class =>
        new()
        {
            MessageId = messageId,
            MessageType = typeof(T).FullName!,
            Payload = JsonSerializer.Serialize(message, Extensions.JsonOptions),
            CreatedAt = now,
            TraceParent = Activity.Current?.Id,
        };
}
