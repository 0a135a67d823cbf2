using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Operations;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>
/// Training that gates access (OPR-23) is judged again when an upload completes, as the permit is: a holder whose training
/// expired while the last PATCH was being verified stores nothing, the upload is kept (training can be renewed, as a suspension
/// can be lifted), and an empty PATCH completes it once a new record is in.
/// </summary>
public sealed class UploadTrainingCommitTests : IAsyncLifetime
{
    private static readonly byte[] Csv = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 5_000).Select(i => $"{i},{i * 7 % 100}")));

    private readonly Checkpoint _keyUse = new();
    private PermitFixture _f = null!;
    private string _projectId = "";

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?> { ["Training:Required"] = "true", ["Uploads:MinFreePercent"] = "0" }, TestBackend.Sqlite,
            services => services.Decorate<IProjectKeyStore>(inner => new CheckpointKeyStore(inner, _keyUse)));
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["datasets"] = new[] { new { id = "ds-t", title = "Extract", holder = "holder" } };
        document["policies"] = new { fileTypes = new { upload = new[] { "csv" } } };
        (_, _projectId) = await _f.IssueAsync(document);
    }

    public async ValueTask DisposeAsync()
    {
        _keyUse.Release();
        await _f.DisposeAsync();
    }

    [Fact]
    [Trait("Requirement", "OPR-23")]
    public async Task Training_that_expires_while_the_last_PATCH_is_verified_stores_nothing_and_a_renewed_record_completes_the_upload()
    {
        // Valid on the fixture's first day only (the record's expiry date is its first day without training).
        Assert.Equal(HttpStatusCode.Created, (await TrainingApi.RecordAsync(_f, "hdab", "holder", "data-holder", "2026-11-01", "2026-11-30")).StatusCode);
        using var holder = await _f.Server.ClientForAccountAsync("holder");
        var tus = new TusClient(holder, _projectId);
        var ciphertext = TusClient.Encrypt(Csv, await tus.ProjectKeyAsync());
        _keyUse.Arm();
        var upload = tus.UploadAsync(ciphertext, "ds-t", "t.csv", TusClient.Sha256Hex(Csv), chunk: ciphertext.Length);
        await _keyUse.Entered.WaitAsync(TimeSpan.FromSeconds(30));

        // The PATCH passed the gate; the training lapses at midnight while its bytes are verified.
        _f.Clock.Advance(TimeSpan.FromHours(13));
        _keyUse.Release();
        var (location, last) = await upload.WaitAsync(TimeSpan.FromSeconds(30));
        var storedWhileExpired = await StoredFilesAsync();
        var renewed = await TrainingApi.RecordAsync(_f, "hdab", "holder", "data-holder", "2026-11-30");
        using var again = await _f.Server.ClientForAccountAsync("holder");
        var resumed = new TusClient(again, _projectId);
        var offset = await resumed.OffsetAsync(location);
        var completed = await resumed.PatchAsync(location, offset, [], checksum: null);

        var problem = await Api.ProblemAssert.IsProblemAsync(last, HttpStatusCode.Forbidden);
        Assert.Equal("SPE8200", problem.GetProperty("code").GetString());
        Assert.Equal(0, storedWhileExpired);
        Assert.Equal(HttpStatusCode.Created, renewed.StatusCode);
        Assert.Equal(ciphertext.Length, offset);
        Assert.Equal(HttpStatusCode.NoContent, completed.StatusCode);
        Assert.Equal(1, await StoredFilesAsync());
    }

    private async Task<int> StoredFilesAsync()
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SpeDbContext>().ProjectFiles.CountAsync(f => f.ProjectId == _projectId);
    }
}
