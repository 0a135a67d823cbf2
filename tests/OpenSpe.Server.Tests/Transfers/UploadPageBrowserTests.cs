using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace OpenSpe.Server.Tests.Transfers;

/// <summary>
/// The data holder's upload page in a real browser (Debian's Chromium driven by Playwright, headless): the file is encrypted in
/// the browser with Crypt4GH for the project's key by the page's own module and the noble primitives the SPE serves, sent over
/// tus with tus-js-client, decrypted and verified by the server; resumed after a reload; refused before anything is sent when
/// the permit does not allow its type.
/// </summary>
public sealed class UploadPageBrowserTests(UploadPageFixture f) : IClassFixture<UploadPageFixture>
{
    [Fact]
    [Trait("Requirement", "SDR-3")]
    [Trait("Requirement", "TIR-8")]
    public async Task The_browser_module_output_decrypts_with_the_projects_own_Crypt4GH_reader_at_every_segment_boundary()
    {
        var (_, projectId) = await f.IssueAsync();
        var token = await f.Server.TokenForAccountAsync("holder");
        var page = await f.NewPageAsync();
        await page.GotoAsync(f.PageUrl(projectId, token));
        using var holder = f.Server.ClientWithToken(token);
        var publicKey = (await holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{projectId}/public-key", TestContext.Current.CancellationToken)).GetProperty("publicKey").GetString();

        // Sizes around the 64 KiB segment; the module is asked for its bytes in odd-sized ranges, as tus chunks cut them.
        foreach (var size in new[] { 0, 1, 65535, 65536, 65537, 200_003 })
        {
            var plaintext = new byte[size];
            new Random(size).NextBytes(plaintext);
            var result = await page.EvaluateAsync<JsonElement>(
                """
                async ([pem, b64, step]) => {
                  const m = await import('/upload/crypt4gh.js');
                  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                  const source = new m.Crypt4ghSource(new Blob([bytes]), m.newEncryption(m.parsePublicKey(pem)));
                  const out = new Uint8Array(source.size);
                  for (let at = 0; at < source.size; at += step) { out.set(await source.bytes(at, at + step), at); }
                  let text = '';
                  for (let i = 0; i < out.length; i += 8192) { text += String.fromCharCode(...out.subarray(i, i + 8192)); }
                  return { size: source.size, expected: m.encryptedSize(bytes.length), c4gh: btoa(text), sha: await m.plaintextSha256(new Blob([bytes])) };
                }
                """, new object[] { publicKey!, Convert.ToBase64String(plaintext), 7919 });

            var ciphertext = Convert.FromBase64String(result.GetProperty("c4gh").GetString()!);
            var decrypted = await f.DecryptAsync(projectId, ciphertext);

            Assert.Equal(ciphertext.Length, result.GetProperty("size").GetInt64());
            Assert.Equal(ciphertext.Length, result.GetProperty("expected").GetInt64());
            Assert.Equal(plaintext, decrypted);
            Assert.Equal(UploadPageFixture.Sha256Hex(plaintext), result.GetProperty("sha").GetString());
        }
    }

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    [Trait("Requirement", "SDR-3")]
    [Trait("Requirement", "TIR-8")]
    public async Task The_holder_uploads_a_csv_in_Chromium_and_the_server_verifies_its_plaintext_sha256()
    {
        var (_, projectId) = await f.IssueAsync();
        var csv = UploadPageFixture.Csv(3_500_000);
        using var directory = new Infrastructure.TempDirectory();
        var path = Path.Join(directory.Path, "cohort.csv");
        await File.WriteAllBytesAsync(path, csv, TestContext.Current.CancellationToken);
        var page = await f.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        page.Console += (_, message) => errors.Add(message.Text);
        var sent = new List<string>();
        page.Request += (_, request) => sent.Add($"{request.Method} {new Uri(request.Url).AbsolutePath}");

        var response = await page.GotoAsync(f.PageUrl(projectId, await f.Server.TokenForAccountAsync("holder")));
        await DatasetsListedAsync(page);
        await page.Locator("#dataset").FillAsync("omop-2026");
        await page.Locator("#file").SetInputFilesAsync(path);
        await page.Locator("#start").ClickAsync();
        var result = await ResultAsync(page, errors);

        Assert.StartsWith("Verified", result, StringComparison.Ordinal);
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);
        Assert.Equal("100", await page.Locator("[role=progressbar]").GetAttributeAsync("aria-valuenow"));
        var fileId = await page.EvaluateAsync<string>("() => window.speUploadResult.fileId");
        var (plaintext, recorded) = await f.DecryptStoredAsync(projectId, fileId);
        Assert.Equal(UploadPageFixture.Sha256Hex(csv), recorded);
        Assert.Equal(csv, plaintext);
        Assert.True(sent.Count(s => s.StartsWith("PATCH ", StringComparison.Ordinal)) >= 3, string.Join("; ", sent));
        Assert.All(sent, s => Assert.DoesNotContain("//", s[(s.IndexOf(' ', StringComparison.Ordinal) + 1)..], StringComparison.Ordinal));
        Assert.Equal("default-src 'none'", response!.Headers["content-security-policy"].Split(';')[0]);
        Assert.DoesNotContain(errors, e => e.Contains("Content Security Policy", StringComparison.Ordinal));
        Assert.Equal((0, 1), await f.StoredAsync(projectId));
        // Nothing the page loaded came from another origin.
        Assert.All(sent, s => Assert.StartsWith("/", s[(s.IndexOf(' ', StringComparison.Ordinal) + 1)..], StringComparison.Ordinal));
    }

    /// <summary>
    /// Waits until the page has listed the project's datasets (or shown why not): it fills the dataset field itself when there is one, so a
    /// field typed into before that could end up with both texts (seen in CI as "omop-2026omop-2026").
    /// </summary>
    private static async Task DatasetsListedAsync(IPage page)
    {
        await page.Locator("#form-section").WaitForAsync(new() { State = WaitForSelectorState.Visible });
        // Or the server's refusal of the list, shown in the result line.
        await page.Locator("#datasets option, #result:not([hidden])").First.WaitForAsync(new() { State = WaitForSelectorState.Attached });
    }

    private const string StoredUploadUrl =
        "() => Object.keys(sessionStorage).some(k => k.startsWith('openspe-upload:') && (JSON.parse(sessionStorage.getItem(k)) || {}).url)";

    [Fact]
    [Trait("Requirement", "TIR-5")]
    [Trait("Requirement", "EHDSR-11")]
    public async Task An_upload_interrupted_by_a_reload_resumes_where_the_server_stopped_and_is_verified()
    {
        var (_, projectId) = await f.IssueAsync();
        var csv = UploadPageFixture.Csv(3_500_000);
        using var directory = new Infrastructure.TempDirectory();
        var path = Path.Join(directory.Path, "registry.csv");
        await File.WriteAllBytesAsync(path, csv, TestContext.Current.CancellationToken);
        var token = await f.Server.TokenForAccountAsync("holder");
        var page = await f.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        var patches = 0;
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The first chunk reaches the server; the second is held in the browser, never sent, while the page is reloaded.
        await page.RouteAsync("**/api/v1/projects/*/uploads/*", async route =>
        {
            if (route.Request.Method == "PATCH" && Interlocked.Increment(ref patches) >= 2)
            {
                held.TrySetResult();
                return;
            }

            await route.ContinueAsync();
        });
        await page.GotoAsync(f.PageUrl(projectId, token));
        await DatasetsListedAsync(page);
        await page.Locator("#dataset").FillAsync("omop-2026");
        await page.Locator("#file").SetInputFilesAsync(path);
        await page.Locator("#start").ClickAsync();
        await held.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        // The scenario needs the tab to know the upload's URL before the reload (it is stored when the server creates it).
        await page.WaitForFunctionAsync(StoredUploadUrl);
        var before = await f.StoredAsync(projectId);

        await page.UnrouteAllAsync(new() { Behavior = UnrouteBehavior.IgnoreErrors });
        var after = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/uploads", StringComparison.Ordinal))
            {
                after.Add($"{request.Method} {new Uri(request.Url).AbsolutePath} {request.Headers.GetValueOrDefault("upload-offset")}");
            }
        };
        await page.ReloadAsync();
        // The token was in memory only: the holder signs in again, chooses the same file, and the page offers to resume.
        await page.Locator("#token").FillAsync(token);
        await page.Locator("#use-token").ClickAsync();
        await DatasetsListedAsync(page);
        await page.Locator("#dataset").FillAsync("omop-2026");
        await page.Locator("#file").SetInputFilesAsync(path);
        await page.Locator("#resume-note").WaitForAsync(new() { State = WaitForSelectorState.Visible });
        await page.Locator("#start").ClickAsync();
        var result = await ResultAsync(page, errors);

        Assert.StartsWith("Verified", result, StringComparison.Ordinal);
        Assert.Equal((1, 0), before);
        Assert.DoesNotContain(after, r => r.StartsWith("POST /api/v1/projects/" + projectId + "/uploads ", StringComparison.Ordinal));
        var firstPatch = after.First(r => r.StartsWith("PATCH ", StringComparison.Ordinal));
        Assert.EndsWith(" " + (UploadPageFixture.ChunkBytes).ToString(System.Globalization.CultureInfo.InvariantCulture), firstPatch, StringComparison.Ordinal);
        var fileId = await page.EvaluateAsync<string>("() => window.speUploadResult.fileId");
        var (plaintext, recorded) = await f.DecryptStoredAsync(projectId, fileId);
        Assert.Equal(csv, plaintext);
        Assert.Equal(UploadPageFixture.Sha256Hex(csv), recorded);
        Assert.Equal(0, await page.EvaluateAsync<int>("() => sessionStorage.length"));
    }

    [Fact]
    [Trait("Requirement", "TIR-5")]
    public async Task A_file_type_the_permit_refuses_is_refused_with_the_servers_message_before_anything_is_encrypted_or_sent()
    {
        var (_, projectId) = await f.IssueAsync();
        using var directory = new Infrastructure.TempDirectory();
        var path = Path.Join(directory.Path, "notes.txt");
        await File.WriteAllTextAsync(path, "not a csv\n", TestContext.Current.CancellationToken);
        var page = await f.NewPageAsync();
        var sent = new List<string>();
        page.Request += (_, request) => sent.Add($"{request.Method} {new Uri(request.Url).AbsolutePath}");

        await page.GotoAsync(f.PageUrl(projectId, await f.Server.TokenForAccountAsync("holder")));
        await DatasetsListedAsync(page);
        await page.Locator("#dataset").FillAsync("omop-2026");
        await page.Locator("#file").SetInputFilesAsync(path);
        await page.Locator("#start").ClickAsync();
        await page.Locator("#result.error").WaitForAsync(new() { Timeout = 30_000 });
        var message = await page.Locator("#result").TextContentAsync();

        Assert.Contains(".txt", message, StringComparison.Ordinal);
        Assert.Contains($"POST /api/v1/projects/{projectId}/uploads/admission", sent);
        Assert.DoesNotContain(sent, s => s.EndsWith("/public-key", StringComparison.Ordinal) || s.StartsWith("PATCH", StringComparison.Ordinal)
            || s == $"POST /api/v1/projects/{projectId}/uploads");
        Assert.True(await page.Locator("#progress-block").IsHiddenAsync(), "the file was read (the SHA-256 phase showed)");
        Assert.Equal((0, 0), await f.StoredAsync(projectId));
    }

    [Theory]
    [InlineData("researcher", "holder")]
    [InlineData("holder", "halted")]
    [Trait("Requirement", "EHDSR-11")]
    [Trait("Requirement", "OPR-20")]
    public async Task A_researcher_and_a_halted_project_see_the_servers_refusal_as_a_sentence_and_nothing_is_sent(string who, string situation)
    {
        var (_, projectId) = await f.IssueAsync();
        if (situation == "halted")
        {
            Assert.Equal(System.Net.HttpStatusCode.Created, (await f.Permits.PostAsAsync("operator", "/api/v1/halts", new { projectId, reason = "upload page test" })).StatusCode);
        }

        using var directory = new Infrastructure.TempDirectory();
        var path = Path.Join(directory.Path, "cohort.csv");
        await File.WriteAllBytesAsync(path, UploadPageFixture.Csv(10_000), TestContext.Current.CancellationToken);
        var page = await f.NewPageAsync();
        var sent = new List<string>();
        page.Request += (_, request) => sent.Add($"{request.Method} {new Uri(request.Url).AbsolutePath}");

        await page.GotoAsync(f.PageUrl(projectId, await f.Server.TokenForAccountAsync(who)));
        await DatasetsListedAsync(page);
        await page.Locator("#dataset").FillAsync("omop-2026");
        await page.Locator("#file").SetInputFilesAsync(path);
        await page.Locator("#start").ClickAsync();
        await page.WaitForFunctionAsync("() => document.querySelector('#start') && !document.querySelector('#start').disabled && !document.querySelector('#result').hidden",
            null, new() { Timeout = 30_000, PollingInterval = 50 });
        var message = (await page.Locator("#result").TextContentAsync())!;

        Assert.Equal("error", await page.Locator("#result").GetAttributeAsync("class"));
        Assert.Contains(situation == "halted" ? "halted" : "SPE", message, StringComparison.Ordinal);
        Assert.EndsWith(")", message.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain(sent, s => s.StartsWith("PATCH", StringComparison.Ordinal) || s == $"POST /api/v1/projects/{projectId}/uploads");
        Assert.Equal((0, 0), await f.StoredAsync(projectId));
    }

    private static async Task<string> ResultAsync(IPage page, List<string> errors)
    {
        try
        {
            await page.Locator("#result").WaitForAsync(new() { State = WaitForSelectorState.Visible, Timeout = 120_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no result; status '{await page.Locator("#status").TextContentAsync()}'; {string.Join("; ", errors)}");
        }

        return (await page.Locator("#result").TextContentAsync())!;
    }
}
