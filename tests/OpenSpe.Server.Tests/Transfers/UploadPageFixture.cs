using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>
/// One dev server for the browser upload page's tests, with 1 MiB tus chunks (so a few-MB file takes several PATCHes and can be
/// interrupted between them), and one headless Chromium (Debian's, driven by Playwright) started on first use.
/// </summary>
public sealed class UploadPageFixture : IAsyncLifetime
{
    /// <summary>The page's tus chunk in this fixture.</summary>
    public const int ChunkBytes = 1 << 20;
    private const string Libraries = "/usr/local/share/openspe/upload-js";
    private readonly SemaphoreSlim _browserLock = new(1, 1);
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public PermitFixture Permits { get; private set; } = null!;

    public SpeTestServer Server => Permits.Server;

    public async ValueTask InitializeAsync()
    {
        Permits = await PermitFixture.StartAsync(new Dictionary<string, string?>
        {
            ["UploadPage:ChunkBytes"] = ChunkBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await Permits.DisposeAsync();
        _browserLock.Dispose();
    }

    /// <summary>Issues a permit whose dataset omop-2026 is <paramref name="holder"/>'s and that allows CSV uploads only.</summary>
    public async Task<(string PermitId, string ProjectId)> IssueAsync(string holder = "holder")
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(60), "HDAB-UPL-" + Guid.NewGuid().ToString("N")[..8]);
        document["datasets"] = new[] { new { id = "omop-2026", title = "OMOP CDM extract", holder } };
        document["policies"] = new { workspaceKinds = new[] { "job" }, clipboard = "none", fileTypes = new { upload = new[] { "csv" } } };
        return await Permits.IssueAsync(document);
    }

    /// <summary>A new browser page (its own context), once Chromium and the page's libraries are known to be installed.</summary>
    public async Task<IPage> NewPageAsync()
    {
        TestChromium.Require();

        if (!File.Exists(Path.Join(Libraries, "tus", "tus.min.js")) || !File.Exists(Path.Join(Libraries, "noble-curves", "ed25519.js")))
        {
            Requirements.Missing("the upload page's browser libraries are not installed (deploy/install-upload-js.sh)");
        }

        await _browserLock.WaitAsync();
        try
        {
            _playwright ??= await Playwright.CreateAsync();
            _browser ??= await TestChromium.LaunchAsync(_playwright);
        }
        finally
        {
            _browserLock.Release();
        }

        var context = await _browser.NewContextAsync(new() { IgnoreHTTPSErrors = true });
        return await context.NewPageAsync();
    }

    /// <summary>The page's address for <paramref name="projectId"/>, with <paramref name="token"/> in the fragment when given.</summary>
    public string PageUrl(string projectId, string? token = null) =>
        $"{Server.BaseAddress}upload/{projectId}" + (token is null ? "" : "#token=" + Uri.EscapeDataString(token));

    /// <summary>The project's unfinished uploads and stored files, counted in the database.</summary>
    public async Task<(int Uploads, int Files)> StoredAsync(string projectId)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        return (await database.Uploads.CountAsync(u => u.ProjectId == projectId), await database.ProjectFiles.CountAsync(f => f.ProjectId == projectId));
    }

    /// <summary>The stored file's plaintext, decrypted server-side with the project's own key and the project's Crypt4GH reader.</summary>
    public async Task<(byte[] Plaintext, string RecordedPlaintextSha256)> DecryptStoredAsync(string projectId, string fileId)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var file = await database.ProjectFiles.SingleAsync(f => f.ProjectId == projectId && f.Id == fileId);
        await using var stored = await Server.Services.GetRequiredService<IObjectStore>().OpenReadAsync(file.ObjectKey);
        using var ciphertext = new MemoryStream();
        await stored.CopyToAsync(ciphertext);
        return (await DecryptAsync(projectId, ciphertext.ToArray()), file.PlaintextSha256);
    }

    /// <summary>Decrypts <paramref name="ciphertext"/> with the project's private key (the vault's) and the project's Crypt4GH reader.</summary>
    public async Task<byte[]> DecryptAsync(string projectId, byte[] ciphertext) =>
        await Server.Services.GetRequiredService<IProjectKeyStore>().UsePrivateKeyAsync(projectId, key =>
        {
            using var input = new MemoryStream(ciphertext);
            using var output = new MemoryStream();
            Crypt4ghFile.Decrypt(input, output, key);
            return output.ToArray();
        });

    /// <summary>A CSV of about <paramref name="bytes"/> bytes, the same for the same size.</summary>
    public static byte[] Csv(int bytes)
    {
        var text = new System.Text.StringBuilder("id,age,region,score\n");
        for (var i = 0; text.Length < bytes; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i},{20 + (i % 60)},region-{i % 17},{i * 7919 % 100000}\n");
        }

        return System.Text.Encoding.UTF8.GetBytes(text.ToString());
    }

    public static string Sha256Hex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
