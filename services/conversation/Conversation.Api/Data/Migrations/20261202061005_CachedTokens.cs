using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StitchFin.Conversation.Data.Migrations
{
    /// <inheritdoc />
    public partial class CachedTokens : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "cached_tokens_in",
                table: "messages",
                type: "integer",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "cached_tokens_in",
                table: "messages");
        }
    }
}
