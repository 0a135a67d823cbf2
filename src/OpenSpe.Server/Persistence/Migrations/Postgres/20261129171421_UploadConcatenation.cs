using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenSpe.Server.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class UploadConcatenation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Partial",
                table: "uploads",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Partial",
                table: "uploads");
        }
    }
}
