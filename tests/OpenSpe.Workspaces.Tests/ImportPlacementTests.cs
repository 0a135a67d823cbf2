using System.Security.Cryptography;
using System.Text;
using OpenSpe.Workspaces.Bubblewrap;

namespace OpenSpe.Workspaces.Tests;

/// <summary>
/// An approved import placed again after a failure (SPER-3): what an earlier attempt left in the request's root-owned folder
/// is judged, never trusted by name — a complete copy is reported for the server to compare, an incomplete one is replaced,
/// anything the airlock did not write is refused.
/// </summary>
public sealed class ImportPlacementTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static readonly byte[] Reviewed = Encoding.UTF8.GetBytes("print('cohort helper v1')\n");

    private BubblewrapProjectFiles Files() => new(sandbox.Options, sandbox.Identities);

    private string HostPath(string project, string request, string name) => Path.Join(sandbox.Options.Root, "projects", project, "project", "imports", request, name);

    private async Task<ProjectFileCopy> PlaceAsync(string project, byte[] content)
    {
        sandbox.RequireSandbox();
        using var stream = new MemoryStream(content);
        return await Files().PlaceImportAsync(project, "imp-1", "helper.py", stream, TestContext.Current.CancellationToken);
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    public async Task A_complete_earlier_copy_is_reported_as_it_is_and_not_written_again()
    {
        var first = await PlaceAsync("place-twice", Reviewed);
        var written = new FileInfo(HostPath("place-twice", "imp-1", "helper.py")).LastWriteTimeUtc;

        var second = await PlaceAsync("place-twice", Encoding.UTF8.GetBytes("other bytes"));

        Assert.Equal(new ProjectFileCopy(Reviewed.Length, Convert.ToHexStringLower(SHA256.HashData(Reviewed))), first);
        Assert.Equal(first, second);
        Assert.Equal(written, new FileInfo(HostPath("place-twice", "imp-1", "helper.py")).LastWriteTimeUtc);
        Assert.Equal(Reviewed, await File.ReadAllBytesAsync(HostPath("place-twice", "imp-1", "helper.py"), TestContext.Current.CancellationToken));
    }

    [Fact]
    [Trait("Requirement", "SPER-3")]
    public async Task An_incomplete_earlier_copy_is_replaced_by_the_reviewed_bytes()
    {
        await PlaceAsync("place-partial", Reviewed);
        var path = HostPath("place-partial", "imp-1", "helper.py");
        // What a write that failed half-way leaves: root's file, still 0600, part of the bytes.
        File.Delete(path);
        await File.WriteAllBytesAsync(path, Reviewed[..5], TestContext.Current.CancellationToken);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var placed = await PlaceAsync("place-partial", Reviewed);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Reviewed)), placed.Sha256);
        Assert.Equal(Reviewed, await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(path));
    }

    [Theory]
    [InlineData("project-owned")]
    [InlineData("hard-link")]
    [InlineData("directory")]
    [Trait("Requirement", "SPER-3")]
    [Trait("Requirement", "SDR-1")]
    public async Task An_entry_the_airlock_did_not_write_is_refused_and_left_alone(string kind)
    {
        var project = "place-" + kind;
        await PlaceAsync(project, Reviewed);
        var path = HostPath(project, "imp-1", "helper.py");
        File.Delete(path);
        switch (kind)
        {
            case "project-owned":
                await File.WriteAllBytesAsync(path, Reviewed, TestContext.Current.CancellationToken);
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                await RunAsync("chown", sandbox.Identities.UidOf(project).ToString(System.Globalization.CultureInfo.InvariantCulture), path);
                break;
            case "hard-link":
                var elsewhere = Path.Join(sandbox.Options.Root, "projects", project, "project", "elsewhere.py");
                await File.WriteAllBytesAsync(elsewhere, Reviewed, TestContext.Current.CancellationToken);
                File.SetUnixFileMode(elsewhere, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                await RunAsync("ln", elsewhere, path);
                break;
            default:
                Directory.CreateDirectory(path);
                break;
        }

        var refused = await Assert.ThrowsAsync<ProjectFileException>(() => PlaceAsync(project, Reviewed));

        Assert.Equal(ProjectFileError.Foreign, refused.Error);
        Assert.True(Path.Exists(path));
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        var error = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"{program}: {error}");
    }
}
