using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StitchFin.Metering.Data.Migrations
{
    /// <inheritdoc />
    public partial class UsageDays : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "usage_days",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    day = table.Column<DateOnly>(type: "date", nullable: false),
                    messages = table.Column<long>(type: "bigint", nullable: false),
                    tokens_in = table.Column<long>(type: "bigint", nullable: false),
                    tokens_out = table.Column<long>(type: "bigint", nullable: false),
                    cost_usd = table.Column<decimal>(type: "numeric(18,6)", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_usage_days", x => new { x.tenant_id, x.day });
                });

            // Days counted before this table existed: their totals are the sums of their detailed rollups.
            migrationBuilder.Sql("""
                INSERT INTO usage_days (tenant_id, day, messages, tokens_in, tokens_out, cost_usd)
                SELECT tenant_id, day, sum(messages), sum(tokens_in), sum(tokens_out), sum(cost_usd)
                FROM usage_rollups
                GROUP BY tenant_id, day
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "usage_days");
        }
    }
}
