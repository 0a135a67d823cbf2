using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenSpe.Server.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ProjectFileNameUnique : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Written by hand: an earlier build could store two files of one name in a dataset (two uploads completing at once).
            // The earliest stays; each later one is renamed to "<file id>-<name>" (at most 190 characters of the name, its end,
            // so the extension stays), so the unique index applies and every file stays listed, readable and distinct.
            migrationBuilder.Sql("""
                UPDATE project_files SET "Filename" = "Id" || '-' || substr("Filename", -190)
                WHERE EXISTS (SELECT 1 FROM project_files AS o
                    WHERE o."ProjectId" = project_files."ProjectId" AND o."DatasetId" = project_files."DatasetId" AND o."Filename" = project_files."Filename"
                    AND (o."UploadedAt" < project_files."UploadedAt" OR (o."UploadedAt" = project_files."UploadedAt" AND o."Id" < project_files."Id")));
                """);
            migrationBuilder.CreateIndex(
                name: "IX_project_files_ProjectId_DatasetId_Filename",
                table: "project_files",
                columns: new[] { "ProjectId", "DatasetId", "Filename" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_project_files_ProjectId_DatasetId_Filename",
                table: "project_files");
        }
    }
}
