using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenSpe.Server.Persistence.Migrations.Sqlite
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
                type: "INTEGER",
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
