using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenSpe.Server.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AlertFiredAtMicros : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_alerts_FiredAt",
                table: "alerts");

            migrationBuilder.AddColumn<long>(
                name: "FiredAtMicros",
                table: "alerts",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            // Note: written by hand: the alerts fired before this column get their time from FiredAt (SQLite's date functions
            // read its text to the millisecond), because the list orders and pages on FiredAtMicros.
            migrationBuilder.Sql("UPDATE alerts SET FiredAtMicros = CAST(round((julianday(FiredAt) - 2440587.5) * 86400000.0) AS INTEGER) * 1000;");

            migrationBuilder.CreateIndex(
                name: "IX_alerts_FiredAtMicros_Id",
                table: "alerts",
                columns: new[] { "FiredAtMicros", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_alerts_State_FiredAtMicros_Id",
                table: "alerts",
                columns: new[] { "State", "FiredAtMicros", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_alerts_FiredAtMicros_Id",
                table: "alerts");

            migrationBuilder.DropIndex(
                name: "IX_alerts_State_FiredAtMicros_Id",
                table: "alerts");

            migrationBuilder.DropColumn(
                name: "FiredAtMicros",
                table: "alerts");

            migrationBuilder.CreateIndex(
                name: "IX_alerts_FiredAt",
                table: "alerts",
                column: "FiredAt");
        }
    }
}
