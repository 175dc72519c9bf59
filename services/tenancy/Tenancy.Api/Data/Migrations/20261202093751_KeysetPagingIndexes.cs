using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StitchFin.Tenancy.Data.Migrations
{
    /// <inheritdoc />
    public partial class KeysetPagingIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_api_keys_tenant_id_created_at",
                table: "api_keys");

            migrationBuilder.CreateIndex(
                name: "ix_api_keys_tenant_id_created_at_id",
                table: "api_keys",
                columns: new[] { "tenant_id", "created_at", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_api_keys_tenant_id_created_at_id",
                table: "api_keys");

            migrationBuilder.CreateIndex(
                name: "ix_api_keys_tenant_id_created_at",
                table: "api_keys",
                columns: new[] { "tenant_id", "created_at" });
        }
    }
}
