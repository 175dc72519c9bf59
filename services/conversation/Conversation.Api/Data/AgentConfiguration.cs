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
        builder.HasIndex(a => new { a.TenantId, a.CreatedAt });
    }
}
