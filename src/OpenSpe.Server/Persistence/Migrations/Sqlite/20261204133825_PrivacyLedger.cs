using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenSpe.Server.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PrivacyLedger : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "privacy_ledger",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Book = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Permit = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Person = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Units = table.Column<long>(type: "INTEGER", nullable: false),
                    Committed = table.Column<bool>(type: "INTEGER", nullable: false),
                    Purpose = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ReservedAtMicros = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_privacy_ledger", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_privacy_ledger_Book_Permit",
                table: "privacy_ledger",
                columns: new[] { "Book", "Permit" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "privacy_ledger");
        }
    }
}
