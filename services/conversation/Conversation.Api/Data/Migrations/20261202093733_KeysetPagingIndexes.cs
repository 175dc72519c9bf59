using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StitchFin.Conversation.Data.Migrations
{
    /// <inheritdoc />
    public partial class KeysetPagingIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_sessions_tenant_id_agent_id_created_at",
                table: "sessions");

            migrationBuilder.DropIndex(
                name: "ix_sessions_tenant_id_created_at",
                table: "sessions");

            migrationBuilder.DropIndex(
                name: "ix_agents_tenant_id_created_at",
                table: "agents");

            migrationBuilder.CreateIndex(
                name: "ix_sessions_tenant_id_agent_id_created_at_id",
                table: "sessions",
                columns: new[] { "tenant_id", "agent_id", "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_sessions_tenant_id_created_at_id",
                table: "sessions",
                columns: new[] { "tenant_id", "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_agents_tenant_id_created_at_id",
                table: "agents",
                columns: new[] { "tenant_id", "created_at", "id" },
                filter: "deleted_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_agents_tenant_id_name",
                table: "agents",
                columns: new[] { "tenant_id", "name" },
                filter: "deleted_at IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_sessions_tenant_id_agent_id_created_at_id",
                table: "sessions");

            migrationBuilder.DropIndex(
                name: "ix_sessions_tenant_id_created_at_id",
                table: "sessions");

            migrationBuilder.DropIndex(
                name: "ix_agents_tenant_id_created_at_id",
                table: "agents");

            migrationBuilder.DropIndex(
                name: "ix_agents_tenant_id_name",
                table: "agents");

            migrationBuilder.CreateIndex(
                name: "ix_sessions_tenant_id_agent_id_created_at",
                table: "sessions",
                columns: new[] { "tenant_id", "agent_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_sessions_tenant_id_created_at",
                table: "sessions",
                columns: new[] { "tenant_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_agents_tenant_id_created_at",
                table: "agents",
                columns: new[] { "tenant_id", "created_at" });
        }
    }
}
