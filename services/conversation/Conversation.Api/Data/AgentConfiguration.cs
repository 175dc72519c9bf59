using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using StitchFin.Conversation.Agents;

namespace StitchFin.Conversation.Data;

public sealed class AgentConfiguration : IEntityTypeConfiguration<Agent>
{
    public void Configure(EntityTypeBuilder<Agent> builder)
    {
        builder.ToTable("agents");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.Name).HasMaxLength(AgentValidator.MaxNameLength);
        builder.Property(a => a.PrimaryProvider).HasMaxLength(AgentValidator.MaxProviderLength);
        builder.Property(a => a.PrimaryModel).HasMaxLength(AgentValidator.MaxModelLength);
        builder.Property(a => a.FallbackProvider).HasMaxLength(AgentValidator.MaxProviderLength);
        builder.Property(a => a.FallbackModel).HasMaxLength(AgentValidator.MaxModelLength);
        builder.Property(a => a.SystemPrompt).HasMaxLength(AgentValidator.MaxSystemPromptLength);
        // Live agents only: GET /agents and /v1/models page them newest first by (createdAt, id), and a model is found by name.
        builder.HasIndex(a => new { a.TenantId, a.CreatedAt, a.Id }).HasFilter("deleted_at IS NULL");
        builder.HasIndex(a => new { a.TenantId, a.Name }).HasFilter("deleted_at IS NULL");
    }
}
