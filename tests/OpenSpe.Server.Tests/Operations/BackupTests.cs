using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Operations.Backups;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Transfers;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// Encrypted backups with verified restores (OPR-21, OPR-24, OPR-27): made while the server runs and uploads arrive,
/// restored into a new data directory where the server starts, the audit chain verifies and every dataset decrypts to
/// its original plaintext; nothing in clear in the backup; tampering named by piece; shredded projects stay shredded.
/// </summary>
public sealed class BackupTests : IAsyncLifetime
{
    private const string FileNamePrefix = "cohort-extract-";

    private readonly TempDirectory _work = new();
    private PermitFixture _f = null!;
    private string _projectId = "";
    private HttpClient _holder = null!;
    private TusClient _tus = null!;
    private Crypt4ghPublicKey _backupPublic = null!;
    private Crypt4ghPrivateKey _backupSecret = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Uploads:MaxUploadBytes"] = "10000000",
            ["Backup:ShredLedgerPath"] = _work.File("outside/shred-ledger.jsonl"),
        });
        (_, _projectId, _holder, _tus) = await IssueProjectAsync(PermitFixture.Start.AddDays(60));
        _backupSecret = Crypt4ghPrivateKey.Generate();
        _backupPublic = _backupSecret.PublicKey;
    }

    public async ValueTask DisposeAsync()
    {
        _holder.Dispose();
        _backupSecret.Dispose();
        await _f.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _work.Dispose();
    }

    private string DataDirectory => Path.Combine(_f.Server.DataDirectory, "data");

    [Fact]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "OPR-24")]
    public async Task Backup_made_while_uploads_run_restores_where_the_server_starts_the_audit_verifies_and_every_dataset_decrypts_to_its_plaintext()
    {
        var before = await UploadAsync(0, 3);
        var running = UploadAsync(3, 6);

        var manifest = await CreateBackupAsync(_work.File("backup"));
        var after = await running;
        var restored = _work.File("restored");
        var restore = await BackupReader.RestoreAsync(_work.File("backup"), _backupSecret, Path.Combine(restored, "data"), null, [], null, CancellationToken.None);

        Assert.Equal(manifest.Pieces.Count, restore.Restored);
        Assert.Equal(0, restore.SkippedPieces);
        await using var server = await SpeTestServer.StartAsync(reuseDirectory: restored);
        Assert.True((await server.Services.GetRequiredService<AuditService>().VerifyAsync()).Valid);
        using var holder = await server.ClientForAccountAsync("holder");
        var files = (await holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files")).EnumerateArray().ToList();
        // Every upload acknowledged before the backup started is in it; those that finished while it ran may or may not be.
        Assert.Superset(before.ToHashSet(), files.Select(f => f.GetProperty("plaintextSha256").GetString()!).ToHashSet());
        Assert.All(files, f => Assert.Contains(f.GetProperty("plaintextSha256").GetString()!, before.Concat(after)));
        var keys = server.Services.GetRequiredService<IProjectKeyStore>();
        var objects = server.Services.GetRequiredService<IObjectStore>();
        foreach (var file in files)
        {
            await using var stored = await objects.OpenReadAsync($"projects/{_projectId}/datasets/omop-2026/{file.GetProperty("id").GetString()}.c4gh");
            var plaintext = await keys.UsePrivateKeyAsync(_projectId, key =>
            {
                using var output = new MemoryStream();
                Crypt4ghFile.Decrypt(stored, output, key);
                return output.ToArray();
            });
            Assert.Equal(file.GetProperty("plaintextSha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(plaintext)));
        }
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "SDR-3")]
    public async Task The_backup_directory_holds_no_plaintext_no_permit_title_no_file_name_and_no_dataset_bytes()
    {
        await UploadAsync(0, 2);

        await CreateBackupAsync(_work.File("backup"));

        var needles = new[] { "Diabetes outcomes after bariatric surgery", FileNamePrefix, "patient-42,", "omop-2026", "BEGIN PRIVATE KEY", "openspe-master-keys" };
        foreach (var path in Directory.EnumerateFileSystemEntries(_work.File("backup"), "*", SearchOption.AllDirectories))
        {
            foreach (var needle in needles)
            {
                Assert.DoesNotContain(needle, path, StringComparison.Ordinal);
            }

            if (File.Exists(path))
            {
                var bytes = await File.ReadAllBytesAsync(path);
                foreach (var needle in needles)
                {
                    Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) < 0, $"{Path.GetFileName(path)} holds '{needle}' in clear");
                }
            }
        }

        // The check is real: the same search finds the title and file names in the live data directory's database.
        var database = await File.ReadAllBytesAsync(Path.Combine(DataDirectory, "spe.db"));
        Assert.True(database.AsSpan().IndexOf(Encoding.UTF8.GetBytes(FileNamePrefix)) >= 0 || File.Exists(Path.Combine(DataDirectory, "spe.db-wal")));
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "SDR-2")]
    public async Task Plaintext_the_airlock_is_checking_or_placing_at_that_moment_is_left_out()
    {
        await UploadAsync(0, 1);
        // What an export's intake and an import's placement hold for a moment: plaintext, under the data directory.
        var work = Path.Combine(DataDirectory, "airlock-work");
        Directory.CreateDirectory(Path.Combine(work, "exp-0123"));
        await File.WriteAllTextAsync(Path.Combine(work, "exp-0123", "table.csv"), "gender,count\nF,3\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(work, "place-0123"), "print('helper')\n", TestContext.Current.CancellationToken);

        var manifest = await CreateBackupAsync(_work.File("backup"));

        Assert.DoesNotContain(manifest.Pieces, p => p.Name.StartsWith("airlock-work", StringComparison.Ordinal));
        // The walk is real: the dataset's object and the data directory's own files are in it.
        Assert.Contains(manifest.Pieces, p => p.Name.StartsWith("objects/", StringComparison.Ordinal));
        Assert.Contains(manifest.Pieces, p => p.Kind == BackupPieceKind.File);
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task Verify_restores_into_scratch_checks_every_hash_the_audit_chain_and_that_the_server_answers_readyz()
    {
        await UploadAsync(0, 2);
        await CreateBackupAsync(_work.File("backup"));

        var drill = await BackupDrill.RunAsync(_work.File("backup"), _backupSecret, [], null, null, CancellationToken.None);

        Assert.True(drill.Audit.Valid, drill.Audit.Message);
        Assert.Equal(200, drill.ReadyStatus);
        Assert.True(drill.Passed);
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task A_wrong_backup_key_fails_verify_at_the_manifest()
    {
        await CreateBackupAsync(_work.File("backup"));
        using var other = Crypt4ghPrivateKey.Generate();

        var error = await Assert.ThrowsAsync<BackupException>(() => BackupDrill.RunAsync(_work.File("backup"), other, [], null, null, CancellationToken.None));

        Assert.Contains("manifest.c4gh does not decrypt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task A_tampered_piece_fails_verify_naming_the_piece()
    {
        await UploadAsync(0, 1);
        var manifest = await CreateBackupAsync(_work.File("backup"));
        var victim = manifest.Pieces.First(p => p.Kind == BackupPieceKind.Object);
        var path = Path.Combine(_work.File("backup"), victim.FileName);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[^10] ^= 0x01;
        await File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<BackupException>(() => BackupDrill.RunAsync(_work.File("backup"), _backupSecret, [], null, null, CancellationToken.None));

        Assert.Contains($"piece {victim.Sequence} ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-27")]
    public async Task A_piece_swapped_for_another_valid_encryption_fails_verify_naming_the_piece()
    {
        // Anyone holding the backup public key can encrypt a replacement that decrypts fine: only the manifest's sums catch it.
        var manifest = await CreateBackupAsync(_work.File("backup"));
        var victim = manifest.Pieces.First(p => p.Name == "keys/" + _projectId + ".key");
        await using (var output = File.Create(Path.Combine(_work.File("backup"), victim.FileName)))
        {
            Crypt4ghFile.Encrypt(new MemoryStream(new byte[victim.Size]), output, [_backupPublic]);
        }

        var error = await Assert.ThrowsAsync<BackupException>(() => BackupDrill.RunAsync(_work.File("backup"), _backupSecret, [], null, null, CancellationToken.None));

        Assert.Contains($"piece {victim.Sequence} ", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not match the manifest", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    public async Task A_manifest_signed_by_another_audit_key_is_refused_before_anything_is_written()
    {
        await CreateBackupAsync(_work.File("backup"));
        using var stranger = OpenSpe.Core.Audit.AuditSigningKey.Generate();

        var error = await Assert.ThrowsAsync<BackupException>(() =>
            BackupReader.RestoreAsync(_work.File("backup"), _backupSecret, _work.File("restored"), null, [], stranger.ExportPublicKeyPem(), CancellationToken.None));

        Assert.Contains("signature does not verify", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_work.File("restored")));
        Assert.Empty(StagingDirectories());
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "OPR-24")]
    public async Task A_truncated_piece_leaves_no_target_and_the_restore_works_once_the_piece_is_whole_again()
    {
        var manifest = await CreateBackupAsync(_work.File("backup"));
        // The last piece, so every piece before it (the database, the keys, master.key) was written when it fails.
        var victim = Path.Combine(_work.File("backup"), manifest.Pieces[^1].FileName);
        var whole = await File.ReadAllBytesAsync(victim);
        await File.WriteAllBytesAsync(victim, whole[..(whole.Length / 2)]);

        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            BackupReader.RestoreAsync(_work.File("backup"), _backupSecret, _work.File("restored/data"), null, [], null, CancellationToken.None));
        var afterFailure = Directory.Exists(_work.File("restored/data"));
        await File.WriteAllBytesAsync(victim, whole);
        var again = await BackupReader.RestoreAsync(_work.File("backup"), _backupSecret, _work.File("restored/data"), null, [], null, CancellationToken.None);

        Assert.True(error is BackupException or IOException, error.ToString());
        Assert.False(afterFailure, "a failed restore left the target behind");
        Assert.Equal(manifest.Pieces.Count, again.Restored);
        Assert.True(File.Exists(_work.File("restored/data/spe.db")));
        Assert.False(File.Exists(_work.File($"restored/data/{BackupReader.IncompleteMarker}")));
        Assert.Empty(StagingDirectories());
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "OPR-24")]
    public async Task A_restore_that_fails_midway_leaves_no_target_and_a_crashed_restores_staging_is_removed_by_the_next()
    {
        var manifest = await CreateBackupAsync(_work.File("backup"));
        var restored = _work.File("restored/data");

        // A failure in the middle (the disk, a signal): the staging directory goes and the target never appears.
        BackupReader.AfterPieceForTests = piece =>
        {
            if (piece.Sequence == 3)
            {
                throw new IOException("injected failure after piece 3");
            }
        };
        try
        {
            await Assert.ThrowsAsync<IOException>(() => BackupReader.RestoreAsync(_work.File("backup"), _backupSecret, restored, null, [], null, CancellationToken.None));
        }
        finally
        {
            BackupReader.AfterPieceForTests = null;
        }

        Assert.False(Directory.Exists(restored));
        Assert.Empty(StagingDirectories());

        // A crash (kill -9) leaves the staging directory with its marker, unlocked: the next restore removes it. One whose
        // marker is locked belongs to a restore still running, and the next restore refuses rather than race it.
        var crashed = Path.Combine(_work.File("restored"), ".data.spe-restore-0123456789ab");
        Directory.CreateDirectory(Path.Combine(crashed, "keys"));
        await File.WriteAllTextAsync(Path.Combine(crashed, BackupReader.IncompleteMarker), "openspe restore in progress\n");
        await File.WriteAllTextAsync(Path.Combine(crashed, "master.key"), "half a key");
        await using (new FileStream(Path.Combine(crashed, BackupReader.IncompleteMarker), FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var running = await Assert.ThrowsAsync<BackupException>(() => BackupReader.RestoreAsync(_work.File("backup"), _backupSecret, restored, null, [], null, CancellationToken.None));
            Assert.Contains("another restore", running.Message, StringComparison.Ordinal);
        }

        var restore = await BackupReader.RestoreAsync(_work.File("backup"), _backupSecret, restored, null, [], null, CancellationToken.None);

        Assert.Equal(1, restore.StaleStagingRemoved);
        Assert.False(Directory.Exists(crashed));
        Assert.Equal(manifest.Pieces.Count, restore.Restored);
        Assert.Empty(StagingDirectories());
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    public async Task A_server_refuses_to_start_on_a_directory_that_carries_the_incomplete_restore_marker()
    {
        await CreateBackupAsync(_work.File("backup"));
        await BackupReader.RestoreAsync(_work.File("backup"), _backupSecret, _work.File("restored/data"), null, [], null, CancellationToken.None);
        await File.WriteAllTextAsync(_work.File($"restored/data/{BackupReader.IncompleteMarker}"), "openspe restore in progress\n");

        var error = await Assert.ThrowsAsync<OpenSpe.Server.Hosting.SpeConfigurationException>(() => SpeTestServer.StartAsync(reuseDirectory: _work.File("restored")));

        Assert.Contains("incomplete restore", error.Message, StringComparison.Ordinal);
    }

    private IEnumerable<string> StagingDirectories() =>
        Directory.Exists(_work.File("restored")) ? Directory.EnumerateDirectories(_work.File("restored"), ".*spe-restore-*") : [];

    [Fact]
    [Trait("Requirement", "OPR-21")]
    public async Task Create_refuses_a_non_empty_output_and_restore_a_non_empty_data_directory()
    {
        Directory.CreateDirectory(_work.File("full"));
        await File.WriteAllTextAsync(_work.File("full/keep.txt"), "operator's file");
        await CreateBackupAsync(_work.File("backup"));

        var create = await Assert.ThrowsAsync<BackupException>(() => CreateBackupAsync(_work.File("full")));
        var restore = await Assert.ThrowsAsync<BackupException>(() =>
            BackupReader.RestoreAsync(_work.File("backup"), _backupSecret, _work.File("full"), null, [], null, CancellationToken.None));

        Assert.Contains("not empty", create.Message, StringComparison.Ordinal);
        Assert.Contains("not empty", restore.Message, StringComparison.Ordinal);
        Assert.Equal(["keep.txt"], Directory.EnumerateFileSystemEntries(_work.File("full")).Select(Path.GetFileName));
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "EHDSR-8")]
    public async Task A_project_shredded_after_the_backup_stays_shredded_after_a_restore_of_that_backup()
    {
        var (permitId, doomed, doomedHolder, doomedTus) = await IssueProjectAsync(PermitFixture.Start.AddDays(10), "HDAB-FI-2026-0099");
        using (doomedHolder)
        {
            await UploadWithAsync(doomedTus, 0, 1);
        }

        await UploadAsync(0, 1);
        await CreateBackupAsync(_work.File("backup"));

        // The doomed permit expires, and after the grace period its project is erased: key destroyed, objects deleted.
        _f.Clock.Advance(TimeSpan.FromDays(10));
        await _f.WaitForStateAsync(permitId, "terminated");
        _f.Clock.Advance(TimeSpan.FromDays(30));
        await _f.WaitForStateAsync(permitId, "erased");
        var outside = _work.File("outside/shred-ledger.jsonl");
        Assert.Contains(ShredLedger.Read(outside), e => e.ProjectId == doomed);

        var restore = await BackupReader.RestoreAsync(_work.File("backup"), _backupSecret, _work.File("restored/data"), null, [outside], null, CancellationToken.None);

        Assert.Contains(restore.Shredded, e => e.ProjectId == doomed);
        Assert.True(restore.SkippedPieces >= 2);
        Assert.False(File.Exists(_work.File($"restored/data/keys/{doomed}.key")));
        Assert.False(Directory.Exists(_work.File($"restored/data/objects/projects/{doomed}")));
        Assert.True(File.Exists(_work.File($"restored/data/keys/{_projectId}.key")));
        // The ledger travels on: the restored directory carries it, so every later backup does too.
        Assert.Contains(ShredLedger.Read(_work.File("restored/data/shred-ledger.jsonl")), e => e.ProjectId == doomed);
        await using var server = await SpeTestServer.StartAsync(reuseDirectory: _work.File("restored"));
        Assert.False(await server.Services.GetRequiredService<IProjectKeyStore>().ExistsAsync(doomed));

        // Without the newer ledger the old backup would bring the key back: the ledger is what keeps it shredded.
        var unguarded = await BackupReader.RestoreAsync(_work.File("backup"), _backupSecret, _work.File("unguarded/data"), null, [], null, CancellationToken.None);
        Assert.Equal(0, unguarded.SkippedPieces);
        Assert.True(File.Exists(_work.File($"unguarded/data/keys/{doomed}.key")));
    }

    private Task<BackupManifest> CreateBackupAsync(string output) =>
        BackupWriter.CreateAsync(new BackupSource(DataDirectory, _f.Server.Database.ConnectionString, null, null), output, _backupPublic, TimeProvider.System, CancellationToken.None);

    private async Task<(string PermitId, string ProjectId, HttpClient Holder, TusClient Tus)> IssueProjectAsync(DateTimeOffset until, string reference = "HDAB-FI-2026-0042")
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), until, reference);
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        var (permitId, projectId) = await _f.IssueAsync(document);
        var holder = await _f.Server.ClientForAccountAsync("holder");
        return (permitId, projectId, holder, new TusClient(holder, projectId));
    }

    private Task<List<string>> UploadAsync(int from, int to) => UploadWithAsync(_tus, from, to);

    /// <summary>Uploads files <paramref name="from"/>..<paramref name="to"/> (exclusive), each distinct; returns their plaintext SHA-256 sums.</summary>
    private static async Task<List<string>> UploadWithAsync(TusClient tus, int from, int to)
    {
        var key = await tus.ProjectKeyAsync();
        var sums = new List<string>();
        for (var n = from; n < to; n++)
        {
            var csv = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 5_000).Select(i => $"{i},patient-{i % 97},{(i * 7 + n) % 1000}")));
            var sha = TusClient.Sha256Hex(csv);
            var (_, last) = await tus.UploadAsync(TusClient.Encrypt(csv, key), "omop-2026", $"{FileNamePrefix}{n}.csv", sha);
            Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
            sums.Add(sha);
        }

        return sums;
    }
}

/// <summary>A backup of a server on PostgreSQL: <c>pg_dump</c> while it runs, <c>pg_restore</c> into an empty database, and the restore drill on it.</summary>
public sealed class PostgresBackupTests
{
    [Fact]
    [Trait("Requirement", "OPR-21")]
    [Trait("Requirement", "OPR-27")]
    public async Task A_postgres_server_is_backed_up_with_pg_dump_and_the_drill_restores_it_into_an_empty_database_where_the_server_starts()
    {
        await using var f = await PermitFixture.StartAsync(backend: TestBackend.PostgreSql);
        using var work = new TempDirectory();
        var (_, projectId) = await f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30)));
        using var secret = Crypt4ghPrivateKey.Generate();
        var data = Path.Combine(f.Server.DataDirectory, "data");

        var manifest = await BackupWriter.CreateAsync(new BackupSource(data, f.Server.Database.ConnectionString, null, null), work.File("backup"), secret.PublicKey, TimeProvider.System, CancellationToken.None);
        var scratch = await EmptyDatabaseAsync(f.Server.Database.ConnectionString);
        var drill = await BackupDrill.RunAsync(work.File("backup"), secret, [], null, scratch, CancellationToken.None);

        Assert.Equal("postgresql", manifest.Database);
        Assert.Equal(BackupPieceKind.PostgresDump, manifest.Pieces[0].Kind);
        Assert.Contains(manifest.Pieces, p => p.Name == $"keys/{projectId}.key");
        Assert.True(drill.Audit.Valid, drill.Audit.Message);
        Assert.Equal(200, drill.ReadyStatus);
        await using var connection = new Npgsql.NpgsqlConnection(scratch);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM permits WHERE \"ProjectId\" = @p";
        command.Parameters.AddWithValue("p", projectId);
        Assert.Equal(1L, (long)(await command.ExecuteScalarAsync())!);
    }

    private static async Task<string> EmptyDatabaseAsync(string like)
    {
        var name = "spe_restore_" + Guid.NewGuid().ToString("N")[..16];
        var admin = new Npgsql.NpgsqlConnectionStringBuilder(like) { Database = "postgres", Pooling = false };
        await using (var connection = new Npgsql.NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE {name}";
            await command.ExecuteNonQueryAsync();
        }

        return new Npgsql.NpgsqlConnectionStringBuilder(like) { Database = name, Pooling = false }.ConnectionString;
    }
}
