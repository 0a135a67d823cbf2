using System.Text.Json;
using OpenSpe.Cli.Client;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>The CLI's credentials file: where it lives, owner-only modes, atomic replacement, the refresh lock.</summary>
public sealed class CredentialStoreTests
{
    private static readonly DateTimeOffset Expiry = new(2026, 3, 1, 12, 5, 0, TimeSpan.Zero);

    private static StoredCredentials Sample(string access = "at-1") =>
        new("https://spe.test:8443/", "ab".PadRight(64, '0'), "alice", access, Expiry, "rt-1");

    [Fact]
    public void SPE_CONFIG_DIR_wins_then_XDG_CONFIG_HOME_then_HOME()
    {
        Dictionary<string, string?> env = new()
        {
            ["SPE_CONFIG_DIR"] = "/tmp/explicit",
            ["XDG_CONFIG_HOME"] = "/home/u/.xdg",
            ["HOME"] = "/home/u",
        };

        Assert.Equal("/tmp/explicit", CredentialStore.ResolveDirectory(n => env.GetValueOrDefault(n)));
        env["SPE_CONFIG_DIR"] = null;
        Assert.Equal("/home/u/.xdg/spe", CredentialStore.ResolveDirectory(n => env.GetValueOrDefault(n)));
        env["XDG_CONFIG_HOME"] = "relative/xdg";
        Assert.Equal("/home/u/.config/spe", CredentialStore.ResolveDirectory(n => env.GetValueOrDefault(n)));
        env["XDG_CONFIG_HOME"] = "";
        Assert.Equal("/home/u/.config/spe", CredentialStore.ResolveDirectory(n => env.GetValueOrDefault(n)));
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    public void Saved_file_is_0600_in_a_0700_directory_and_holds_the_agreed_fields()
    {
        using var temp = new TempDirectory();
        var store = new CredentialStore(temp.File("nested/spe"));

        store.Save(Sample());

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(store.Directory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.Path));
        using var document = JsonDocument.Parse(File.ReadAllText(store.Path));
        Assert.Equal(
            ["accessToken", "accessTokenExpiresAt", "caFingerprint", "refreshToken", "server", "username"],
            document.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(Sample(), store.Load());
    }

    [Fact]
    public void A_looser_existing_directory_is_tightened_to_0700()
    {
        using var temp = new TempDirectory();
        var directory = temp.File("spe");
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);

        new CredentialStore(directory).Save(Sample());

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
    }

    [Fact]
    public void Save_replaces_the_file_by_rename_so_a_reader_never_sees_a_partial_write()
    {
        using var temp = new TempDirectory();
        var store = new CredentialStore(temp.Path);
        store.Save(Sample("at-old"));
        var before = File.ReadAllText(store.Path);

        // A reader that opened the old file keeps reading the complete old file: the new one is a different inode renamed over it, not a rewrite in place.
        using var reader = new FileStream(store.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        store.Save(Sample("at-new-and-longer"));

        using var old = new StreamReader(reader);
        Assert.Equal(before, old.ReadToEnd());
        Assert.Equal("at-new-and-longer", store.Load()!.AccessToken);
        Assert.Equal([CredentialStore.FileName], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_file_other_users_can_read_is_refused_and_missing_means_signed_out()
    {
        using var temp = new TempDirectory();
        var store = new CredentialStore(temp.Path);
        Assert.Null(store.Load());
        Assert.False(store.Delete());

        store.Save(Sample());
        File.SetUnixFileMode(store.Path, (UnixFileMode)0b110_100_100);

        var ex = Assert.Throws<SpeClientException>(store.Load);
        Assert.Contains("readable by other users", ex.Message, StringComparison.Ordinal);
        Assert.True(store.Delete());
        Assert.Null(store.Load());
    }

    [Fact]
    public void A_corrupt_file_gives_a_hint_to_sign_in_again()
    {
        using var temp = new TempDirectory();
        var store = new CredentialStore(temp.Path);
        File.WriteAllText(store.Path, "{not json");
        File.SetUnixFileMode(store.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var ex = Assert.Throws<SpeClientException>(store.Load);
        Assert.Contains("spe login", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_refresh_lock_is_exclusive_between_holders()
    {
        using var temp = new TempDirectory();
        var store = new CredentialStore(temp.Path);
        var token = TestContext.Current.CancellationToken;

        var first = await store.LockAsync(TimeSpan.FromSeconds(1), token);
        await Assert.ThrowsAsync<SpeClientException>(() => store.LockAsync(TimeSpan.FromMilliseconds(50), token));
        var waiting = store.LockAsync(TimeSpan.FromSeconds(10), token);

        // Note: a real wait, because the lock is the operating system's file lock; 100 ms is two of its retries.
        await Task.Delay(100, token);
        Assert.False(waiting.IsCompleted);

        first.Dispose();
        (await waiting).Dispose();
    }
}
