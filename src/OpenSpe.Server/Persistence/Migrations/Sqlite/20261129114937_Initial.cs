using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenSpe.Server.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audit_checkpoints",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    sequence = table.Column<long>(type: "INTEGER", nullable: false),
                    hash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    timestamp_us = table.Column<long>(type: "INTEGER", nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    key_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    signature = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_checkpoints", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "audit_records",
                columns: table => new
                {
                    sequence = table.Column<long>(type: "INTEGER", nullable: false),
                    timestamp_us = table.Column<long>(type: "INTEGER", nullable: false),
                    actor_subject = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    actor_username = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    actor_roles = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    actor_client_id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    source_ip = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    user_agent = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    action = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    resource_type = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    resource_id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    project_id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    outcome = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    http_status = table.Column<int>(type: "INTEGER", nullable: true),
                    trace_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    details = table.Column<string>(type: "TEXT", nullable: false),
                    hash = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_records", x => x.sequence);
                });

            migrationBuilder.CreateTable(
                name: "server_settings",
                columns: table => new
                {
                    name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    value = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_server_settings", x => x.name);
                });

            migrationBuilder.CreateIndex(
                name: "ix_audit_checkpoints_sequence",
                table: "audit_checkpoints",
                column: "sequence");

            migrationBuilder.CreateIndex(
                name: "ix_audit_records_action",
                table: "audit_records",
                column: "action");

            migrationBuilder.CreateIndex(
                name: "ix_audit_records_actor",
                table: "audit_records",
                column: "actor_username");

            migrationBuilder.CreateIndex(
                name: "ix_audit_records_project",
                table: "audit_records",
                column: "project_id");

            migrationBuilder.CreateIndex(
                name: "ix_audit_records_timestamp",
                table: "audit_records",
                column: "timestamp_us");

            migrationBuilder.CreateIndex(
                name: "ix_audit_records_trace",
                table: "audit_records",
                column: "trace_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "audit_checkpoints");

            migrationBuilder.DropTable(
                name: "audit_records");

            migrationBuilder.DropTable(
                name: "server_settings");
        }
    }
}
