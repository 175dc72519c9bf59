using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using StitchFin.Conversation.Agents;
using StitchFin.Conversation.Responses;
using StitchFin.Conversation.Sessions;

namespace StitchFin.Conversation.Data;

public sealed class SessionConfiguration : IEntityTypeConfiguration<Session>
{
    public void Configure(EntityTypeBuilder<Session> builder)
    {
        builder.ToTable("sessions");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.HasOne(s => s.Agent).WithMany().HasForeignKey(s => s.AgentId).OnDelete(DeleteBehavior.Restrict);
        // GET /sessions pages newest first by (createdAt, id), of all agents or of one.
        builder.HasIndex(s => new { s.TenantId, s.CreatedAt, s.Id });
        builder.HasIndex(s => new { s.TenantId, s.AgentId, s.CreatedAt, s.Id });
    }
}

public sealed class SessionMessageConfiguration : IEntityTypeConfiguration<SessionMessage>
{
    public void Configure(EntityTypeBuilder<SessionMessage> builder)
    {
        builder.ToTable("messages");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Id).ValueGeneratedNever();
        builder.Property(m => m.Role).HasMaxLength(16);
        builder.Property(m => m.Channel).HasMaxLength(16);
        builder.Property(m => m.Provider).HasMaxLength(AgentValidator.MaxProviderLength);
        builder.Property(m => m.Model).HasMaxLength(AgentValidator.MaxModelLength);
        builder.Property(m => m.FinishReason).HasMaxLength(32);
        builder.Property(m => m.Attempts).HasColumnType("jsonb");
        builder.Property(m => m.Input).HasColumnType("jsonb");
        builder.Property(m => m.ToolCalls).HasColumnType("jsonb");
        builder.Property(m => m.CostUsd).HasPrecision(18, 6);
        builder.HasOne<Session>().WithMany().HasForeignKey(m => m.SessionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(m => new { m.SessionId, m.Sequence }).IsUnique();
    }
}

public sealed class StoredResponseConfiguration : IEntityTypeConfiguration<StoredResponse>
{
    public void Configure(EntityTypeBuilder<StoredResponse> builder)
    {
        builder.ToTable("responses");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.Request).HasColumnType("jsonb");
        builder.Property(r => r.InputItems).HasColumnType("jsonb");
        builder.HasOne<Session>().WithMany().HasForeignKey(r => r.SessionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(r => new { r.TenantId, r.CreatedAt });
    }
}
