using System.Security.Cryptography;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Vault;

public sealed class FileSystemObjectStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly FileSystemObjectStore _store;

    public FileSystemObjectStoreTests() => _store = new FileSystemObjectStore(_temp.File("objects"));

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task Put_ThenOpenRead_RoundTripsTheContent_AndReportsSizeAndSha256()
    {
        var content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);

        var stored = await _store.PutAsync("projects/p1/data/file.c4gh", new MemoryStream(content));

        Assert.Equal("projects/p1/data/file.c4gh", stored.Key);
        Assert.Equal(content.Length, stored.Size);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), stored.Sha256);
        Assert.True(await _store.ExistsAsync("projects/p1/data/file.c4gh"));
        await using var read = await _store.OpenReadAsync("projects/p1/data/file.c4gh");
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_store.Root, "projects/p1/data/file.c4gh")));
    }

    [Fact]
    public async Task Put_EmptyObject_IsStored()
    {
        var stored = await _store.PutAsync("empty", new MemoryStream());

        Assert.Equal(0, stored.Size);
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", stored.Sha256);
        Assert.True(await _store.ExistsAsync("empty"));
    }

    [Fact]
    public async Task Put_OverAnExistingObject_ReplacesItWhole()
    {
        await _store.PutAsync("a/b", new MemoryStream([1, 2, 3]));

        await _store.PutAsync("a/b", new MemoryStream([9]));

        await using var read = await _store.OpenReadAsync("a/b");
        Assert.Equal(1, read.Length);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a/..")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a/.hidden")]
    [InlineData(".tmp-123")]
    [InlineData("Upper")]
    [InlineData("a b")]
    [InlineData("a\\b")]
    [InlineData("a\0b")]
    [InlineData("é")]
    [InlineData("-lead")]
    public async Task InvalidKeys_AreRejected_AndNothingIsWritten(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _store.PutAsync(key, new MemoryStream([1])));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.OpenReadAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.ExistsAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.DeleteAsync(key));

        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.Root));
        Assert.Equal([_store.Root], Directory.EnumerateFileSystemEntries(_temp.Path));
    }

    [Fact]
    public async Task KeysLongerThan251Characters_AreRejected()
    {
        var longest = new string('a', 251);

        await _store.PutAsync(longest[..200] + "/" + longest[..50], new MemoryStream([1]));

        await Assert.ThrowsAsync<ArgumentException>(() => _store.PutAsync(new string('a', 252), new MemoryStream([1])));
        Assert.False(ObjectKeys.IsValid(new string('a', 120) + "/" + new string('b', 131)));
    }

    [Fact]
    public async Task Put_WhenTheSourceStreamFailsMidway_LeavesNothingVisible_AndKeepsThePreviousObject()
    {
        await _store.PutAsync("p/obj", new MemoryStream([7, 7, 7]));

        await Assert.ThrowsAsync<IOException>(() => _store.PutAsync("p/obj", new FailingStream(5 * 1024 * 1024)));
        await Assert.ThrowsAsync<IOException>(() => _store.PutAsync("p/new", new FailingStream(100)));

        Assert.False(await _store.ExistsAsync("p/new"));
        await using (var read = await _store.OpenReadAsync("p/obj"))
        {
            Assert.Equal(3, read.Length);
        }

        Assert.Equal(["p/obj"], (await ListAsync("")).Select(e => e.Key));
        Assert.Equal(["obj"], Directory.EnumerateFileSystemEntries(Path.Combine(_store.Root, "p")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Put_CancelledMidway_LeavesNothingVisible()
    {
        using var cancellation = new CancellationTokenSource();
        var source = new EndlessStream(afterBytes: 4 * 1024 * 1024, onReached: cancellation.Cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.PutAsync("p/cancelled", source, cancellation.Token));

        Assert.True(source.Position >= 4 * 1024 * 1024);
        Assert.False(await _store.ExistsAsync("p/cancelled"));
        Assert.Empty(await ListAsync("p/"));
        Assert.Empty(Directory.EnumerateFiles(_store.Root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Put_AlreadyCancelled_WritesNothing()
    {
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.PutAsync("p/x", new MemoryStream([1]), new CancellationToken(canceled: true)));

        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.Root));
    }

    [Fact]
    public async Task Put_OfA64MiBStream_StreamsIt_AndHashesEveryByte()
    {
        const long size = 64L * 1024 * 1024;
        var source = new EndlessStream(afterBytes: long.MaxValue, onReached: null, length: size);

        var stored = await _store.PutAsync("projects/p1/large.bin", source);

        Assert.Equal(size, stored.Size);
        Assert.Equal(EndlessStream.Sha256Of(size), stored.Sha256);
        Assert.Equal(size, new FileInfo(Path.Combine(_store.Root, "projects/p1/large.bin")).Length);
        // The source is read in bounded chunks: never more than the store's buffer at once.
        Assert.InRange(source.LargestRead, 1, 1024 * 1024);
    }

    [Fact]
    public async Task OpenRead_OfAMissingObject_ThrowsObjectNotFound()
    {
        await _store.PutAsync("folder/inside", new MemoryStream([1]));

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.OpenReadAsync("nothing/here"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => _store.OpenReadAsync("folder"));
        Assert.False(await _store.ExistsAsync("nothing/here"));
        Assert.False(await _store.ExistsAsync("folder"));
    }

    [Fact]
    public async Task Delete_RemovesTheObject_AndPrunesEmptyFolders()
    {
        await _store.PutAsync("projects/p1/a/b/c", new MemoryStream([1]));
        await _store.PutAsync("projects/p1/d", new MemoryStream([1]));

        Assert.True(await _store.DeleteAsync("projects/p1/a/b/c"));
        Assert.False(await _store.DeleteAsync("projects/p1/a/b/c"));

        Assert.False(await _store.ExistsAsync("projects/p1/a/b/c"));
        Assert.False(Directory.Exists(Path.Combine(_store.Root, "projects/p1/a")));
        Assert.True(await _store.ExistsAsync("projects/p1/d"));
        Assert.True(await _store.DeleteAsync("projects/p1/d"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.Root));
    }

    [Fact]
    public async Task List_ReturnsObjectsUnderAPrefix_InOrdinalKeyOrder()
    {
        string[] keys = ["projects/p1/b", "projects/p1/a/x", "projects/p1-c", "projects/p10/z", "projects/p1.d", "other/o", "projects/p1/a-b"];
        foreach (var key in keys)
        {
            await _store.PutAsync(key, new MemoryStream(new byte[key.Length]));
        }

        var all = await ListAsync("");
        var p1 = await ListAsync("projects/p1/");
        var p1Partial = await ListAsync("projects/p1");
        var none = await ListAsync("projects/p2/");

        Assert.Equal(keys.Order(StringComparer.Ordinal), all.Select(e => e.Key));
        Assert.Equal(["projects/p1/a-b", "projects/p1/a/x", "projects/p1/b"], p1.Select(e => e.Key));
        Assert.Equal(["projects/p1-c", "projects/p1.d", "projects/p1/a-b", "projects/p1/a/x", "projects/p1/b", "projects/p10/z"], p1Partial.Select(e => e.Key));
        Assert.Empty(none);
        Assert.All(all, e => Assert.Equal(e.Key.Length, e.Size));
    }

    [Theory]
    [InlineData("../")]
    [InlineData("/")]
    [InlineData("a//")]
    [InlineData("A")]
    public async Task List_WithAnInvalidPrefix_IsRejected(string prefix) =>
        await Assert.ThrowsAsync<ArgumentException>(() => ListAsync(prefix));

    [Fact]
    public async Task List_SkipsTemporaryFiles()
    {
        await _store.PutAsync("p/a", new MemoryStream([1]));
        await File.WriteAllBytesAsync(Path.Combine(_store.Root, "p", ".tmp-leftover"), [1]);

        Assert.Equal(["p/a"], (await ListAsync("p/")).Select(e => e.Key));
    }

    [Fact]
    public async Task ImportFile_MovesTheFileIntoPlace_WithoutACopy()
    {
        var content = RandomNumberGenerator.GetBytes(200_000);
        var staged = _temp.File("staged.part");
        await File.WriteAllBytesAsync(staged, content);
        var inode = Inode(staged);

        await _store.ImportFileAsync("projects/p1/datasets/d/f-1.c4gh", staged);

        var target = Path.Combine(_store.Root, "projects/p1/datasets/d/f-1.c4gh");
        Assert.False(File.Exists(staged));
        Assert.Equal(content, await File.ReadAllBytesAsync(target));
        Assert.Equal(inode, Inode(target));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(target)!, DurableFiles.TemporaryPrefix + "*"));
    }

    [Fact]
    public async Task ImportFile_WithAnInvalidKey_LeavesTheFileWhereItWas()
    {
        var staged = _temp.File("staged.part");
        await File.WriteAllBytesAsync(staged, [1, 2, 3]);

        await Assert.ThrowsAsync<ArgumentException>(() => _store.ImportFileAsync("../escape", staged));

        Assert.True(File.Exists(staged));
        Assert.Empty(await _store.ListAsync("").ToListAsync());
    }

    public void Dispose() => _temp.Dispose();

    private static string Inode(string path)
    {
        // stat(1) is in coreutils: %i is the inode number, which a rename keeps and a copy does not.
        var start = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }

    private async Task<List<ObjectEntry>> ListAsync(string prefix)
    {
        var list = new List<ObjectEntry>();
        await foreach (var entry in _store.ListAsync(prefix))
        {
            list.Add(entry);
        }

        return list;
    }

    /// <summary>Yields <c>failAfter</c> bytes, then fails as a dropped connection would.</summary>
    private sealed class FailingStream(int failAfter) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter)
            {
                throw new IOException("connection reset");
            }

            var n = Math.Min(count, failAfter - _position);
            buffer.AsSpan(offset, n).Fill(0x5a);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A generated stream (byte i = i mod 251) of <c>length</c> bytes that calls <c>onReached</c> once past <c>afterBytes</c>.</summary>
    private sealed class EndlessStream(long afterBytes, Action? onReached, long length = long.MaxValue) : Stream
    {
        private long _position;
        private bool _signalled;

        public int LargestRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public static string Sha256Of(long length)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[251 * 4096];
            Fill(buffer, 0);
            for (long done = 0; done < length; done += buffer.Length)
            {
                hash.AppendData(buffer, 0, (int)Math.Min(buffer.Length, length - done));
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            LargestRead = Math.Max(LargestRead, count);
            var n = (int)Math.Min(count, length - _position);
            Fill(buffer.AsSpan(offset, n), _position);
            _position += n;
            if (!_signalled && _position >= afterBytes)
            {
                _signalled = true;
                onReached?.Invoke();
            }

            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private static void Fill(Span<byte> span, long start)
        {
            var phase = (int)(start % 251);
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (byte)phase;
                phase = phase == 250 ? 0 : phase + 1;
            }
        }
    }
}
