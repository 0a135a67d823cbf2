using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpenSpe.Cli.Tests.UploadCli;
using OpenSpe.Server.Tests.Airlock;

namespace OpenSpe.Cli.Tests.ExportCli;

/// <summary>
/// <c>spe export request|list|review|download</c> and <c>spe import request|review</c> against a real server with the real
/// sandbox (EHDSR-12, EHDSR-13, SPER-3): the download keeps a file only when its bytes have the approved SHA-256.
/// </summary>
public sealed class ExportCliTests : IAsyncLifetime
{
    private const string Table = "sex,yes,no\nf,12,15\nm,20,11\n";
    private AirlockSandbox _w = null!;
    private UploadHarness _researcher = null!;

    public async ValueTask InitializeAsync()
    {
        _w = await AirlockSandbox.StartAsync();
        _researcher = UploadHarness.ForServer(_w.F.Server, await _w.F.Server.TokenForAccountAsync("researcher"));
    }

    public async ValueTask DisposeAsync()
    {
        await _researcher.DisposeAsync();
        await _w.DisposeAsync();
    }

    private async Task<UploadHarness> AsAsync(string account) => UploadHarness.ForServer(_w.F.Server, await _w.F.Server.TokenForAccountAsync(account));

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    [Trait("Requirement", "EHDSR-13")]
    public async Task An_export_is_requested_reviewed_by_two_checkers_and_downloaded_with_its_checksum()
    {
        await _w.RunAsync("printf 'sex,yes,no\\nf,12,15\\nm,20,11\\n' > /outputs/t1.csv");
        var meta = _researcher.WriteFile("outputs.json", Encoding.UTF8.GetBytes("""{"outputs": [{"file": "t1.csv", "kind": "frequency", "labelColumns": ["sex"]}]}"""));
        await using var checker = await AsAsync("checker");
        await using var checker2 = await AsAsync("checker2");
        var output = Path.Combine(Path.GetDirectoryName(meta)!, "out");

        var request = await _researcher.RunAsync("export", "request", "--project", _w.ProjectId, "t1.csv", "--reason", "table 1", "--meta", meta, "--json");
        Assert.True(request.Code == 0, request.Stderr);
        var id = JsonDocument.Parse(request.Stdout).RootElement.GetProperty("id").GetString()!;
        var queue = await checker.RunAsync("export", "list");
        var both = await checker.RunAsync("export", "review", id, "--approve", "--reject", "--comment", "x");
        var first = await checker.RunAsync("export", "review", id, "--approve", "--comment", "counts >= 10");
        var early = await _researcher.RunAsync("export", "download", id, "--out", output);
        var second = await checker2.RunAsync("export", "review", id, "--approve", "--comment", "agreed");
        var download = await _researcher.RunAsync("export", "download", id, "--out", output);

        Assert.Equal(0, request.Code);
        Assert.Equal("pass", JsonDocument.Parse(request.Stdout).RootElement.GetProperty("checkStatus").GetString());
        Assert.Contains(id, queue.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, both.Code);
        Assert.True(first.Code == 0, first.Stderr);
        Assert.Equal(1, early.Code);
        Assert.Contains("no file of", early.Stderr, StringComparison.Ordinal);
        Assert.True(second.Code == 0, second.Stderr);
        Assert.True(download.Code == 0, download.Stderr);
        var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Table)));
        Assert.Equal($"{sha}  {Path.Combine(output, "t1.csv")}\n", download.Stdout);
        Assert.Equal(Table, await File.ReadAllTextAsync(Path.Combine(output, "t1.csv"), TestContext.Current.CancellationToken));
        Assert.Empty(Directory.GetFiles(output, "*.part"));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    public async Task Spe_export_outputs_lists_the_files_a_job_wrote_says_when_there_are_none_and_is_refused_to_a_holder()
    {
        var empty = await _researcher.RunAsync("export", "outputs", _w.ProjectId);
        await _w.RunAsync("printf 'sex,yes,no\\nf,12,15\\nm,20,11\\n' > /outputs/t1.csv; mkdir -p /outputs/figs && printf 'x' > /outputs/figs/a.txt; ln -s /etc/passwd /outputs/pw.txt");
        await using var holder = await AsAsync("holder");

        var table = await _researcher.RunAsync("export", "outputs", _w.ProjectId);
        var json = await _researcher.RunAsync("export", "outputs", _w.ProjectId, "--json");
        var refused = await holder.RunAsync("export", "outputs", _w.ProjectId);

        Assert.True(empty.Code == 0, empty.Stderr);
        Assert.Equal("No files in /outputs.\n", empty.Stdout);
        Assert.True(table.Code == 0, table.Stderr);
        var lines = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("NAME", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("figs/a.txt", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("t1.csv", lines[2], StringComparison.Ordinal);
        Assert.Contains(" 27 ", lines[2], StringComparison.Ordinal);
        Assert.DoesNotContain("pw.txt", table.Stdout, StringComparison.Ordinal);
        Assert.True(json.Code == 0, json.Stderr);
        var files = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("files");
        Assert.Equal(["figs/a.txt", "t1.csv"], files.EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.Equal(27, files[1].GetProperty("size").GetInt64());
        Assert.Equal(1, refused.Code);
        Assert.DoesNotContain("t1.csv", refused.Stdout + refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    public async Task An_import_is_requested_and_once_reviewed_is_read_only_in_the_workspace()
    {
        var local = _researcher.WriteFile("helper.py", Encoding.UTF8.GetBytes("print('hi')\n"));
        await using var checker = await AsAsync("checker");

        var request = await _researcher.RunAsync("import", "request", "--project", _w.ProjectId, local, "--reason", "helper", "--json");
        Assert.True(request.Code == 0, request.Stderr);
        var id = JsonDocument.Parse(request.Stdout).RootElement.GetProperty("id").GetString()!;
        var review = await checker.RunAsync("import", "review", "--project", _w.ProjectId, id, "--approve", "--comment", "code read");
        var inside = await _w.RunAsync($"cat /project/imports/{id}/helper.py");

        Assert.True(request.Code == 0, request.Stderr);
        Assert.True(review.Code == 0, review.Stderr);
        Assert.Equal("print('hi')\n", inside);
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    public async Task An_approved_import_that_could_not_be_placed_says_why_and_spe_import_place_places_it_once_the_cause_is_gone()
    {
        await _w.RunAsync("ln -s /outputs /project/imports");
        var local = _researcher.WriteFile("helper.py", Encoding.UTF8.GetBytes("print('hi')\n"));
        await using var checker = await AsAsync("checker");
        await using var stranger = await AsAsync("hdab");
        var request = await _researcher.RunAsync("import", "request", "--project", _w.ProjectId, local, "--reason", "helper", "--json");
        Assert.True(request.Code == 0, request.Stderr);
        var id = JsonDocument.Parse(request.Stdout).RootElement.GetProperty("id").GetString()!;

        var review = await checker.RunAsync("import", "review", "--project", _w.ProjectId, id, "--approve", "--comment", "code read");
        var stillLinked = await _researcher.RunAsync("import", "place", id);
        var refused = await stranger.RunAsync("import", "place", "--project", _w.ProjectId, id);
        await _w.RunAsync("rm /project/imports");
        var placed = await _researcher.RunAsync("import", "place", id);
        var again = await _researcher.RunAsync("import", "place", "--project", _w.ProjectId, id);

        Assert.True(review.Code == 0, review.Stderr);
        Assert.Contains("PLACEMENT", review.Stdout, StringComparison.Ordinal);
        Assert.Contains($"helper.py: not placed: 'imports' is a symbolic link", review.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, stillLinked.Code);
        Assert.Contains("not placed", stillLinked.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, refused.Code);
        Assert.True(placed.Code == 0, placed.Stderr + placed.Stdout);
        Assert.DoesNotContain("not placed", placed.Stdout, StringComparison.Ordinal);
        Assert.Contains(" placed", placed.Stdout, StringComparison.Ordinal);
        Assert.Equal("print('hi')\n", await _w.RunAsync($"cat /project/imports/{id}/helper.py"));
        Assert.Equal(1, again.Code);
        Assert.Contains("SPE6309", again.Stderr, StringComparison.Ordinal);
    }
}
