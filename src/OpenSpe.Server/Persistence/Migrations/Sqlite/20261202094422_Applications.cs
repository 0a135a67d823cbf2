using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenSpe.Server.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Applications : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ClientId",
                table: "permit_members",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "EnrolmentExpiresAt",
                table: "AspNetUsers",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "EnrolmentTokenHash",
                table: "AspNetUsers",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_permit_members_ClientId",
                table: "permit_members",
                column: "ClientId");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUsers_EnrolmentTokenHash",
                table: "AspNetUsers",
                column: "EnrolmentTokenHash",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_permit_members_ClientId",
                table: "permit_members");

            migrationBuilder.DropIndex(
                name: "IX_AspNetUsers_EnrolmentTokenHash",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "ClientId",
                table: "permit_members");

            migrationBuilder.DropColumn(
                name: "EnrolmentExpiresAt",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "EnrolmentTokenHash",
                table: "AspNetUsers");
        }
    }
}
