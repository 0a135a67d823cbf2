using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenSpe.Server.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ImportPlacement : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Placement",
                table: "airlock_files",
                type: "character varying(24)",
                maxLength: 24,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PlacementProblem",
                table: "airlock_files",
                type: "character varying(500)",
                maxLength: 500,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Placement",
                table: "airlock_files");

            migrationBuilder.DropColumn(
                name: "PlacementProblem",
                table: "airlock_files");
        }
    }
}
