using OpenSpe.Crypt4gh;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>
/// Wrong arguments to the header API fail at once, naming the argument, before any byte is read from the input or
/// any header is written: a missing key must never turn into a half-read stream or a header nobody can open.
/// </summary>
public sealed class HeaderArgumentTests
{
    [Fact]
    public async Task A_missing_reader_key_is_refused_before_the_input_is_read()
    {
        var inputs = Enumerable.Range(0, 4).Select(_ => new MemoryStream(Crypt4ghHeader.Create().Encrypt([TestData.Project.PublicKey]))).ToList();
        var token = TestContext.Current.CancellationToken;

        var errors = new[]
        {
            Assert.Throws<ArgumentNullException>(() => Crypt4ghHeader.Read(inputs[0], null!)),
            await Assert.ThrowsAsync<ArgumentNullException>(() => Crypt4ghHeader.ReadAsync(inputs[1], null!, cancellationToken: token)),
            Assert.Throws<ArgumentNullException>(() => Crypt4ghHeader.Reencrypt(inputs[2], null!, [TestData.Researcher.PublicKey])),
            await Assert.ThrowsAsync<ArgumentNullException>(() => Crypt4ghHeader.ReencryptAsync(inputs[3], null!, [TestData.Researcher.PublicKey], cancellationToken: token)),
        };

        Assert.All(errors, e => Assert.Equal("readerKey", e.ParamName));
        Assert.All(inputs, i => Assert.Equal(0, i.Position));
    }

    [Fact]
    public async Task A_missing_input_is_refused()
    {
        var token = TestContext.Current.CancellationToken;

        var sync = Assert.Throws<ArgumentNullException>(() => Crypt4ghHeader.Read(null!, TestData.Project));
        var async = await Assert.ThrowsAsync<ArgumentNullException>(() => Crypt4ghHeader.ReadAsync(null!, TestData.Project, cancellationToken: token));
        var sealedRead = await Assert.ThrowsAsync<ArgumentNullException>(() => Crypt4ghHeader.ReadSealedAsync(null!, token));

        Assert.All([sync, async, sealedRead], e => Assert.Equal("input", e.ParamName));
    }

    [Fact]
    public void Data_keys_must_be_given_and_each_32_bytes()
    {
        var none = Assert.Throws<ArgumentNullException>(() => Crypt4ghHeader.Create((IEnumerable<ReadOnlyMemory<byte>>)null!));
        var empty = Assert.Throws<ArgumentException>(() => Crypt4ghHeader.Create(Array.Empty<ReadOnlyMemory<byte>>()));
        var shortKey = Assert.Throws<ArgumentException>(() => Crypt4ghHeader.Create([new byte[32], new byte[31]]));
        var longKey = Assert.Throws<ArgumentException>(() => Crypt4ghHeader.Create([new byte[33]]));

        Assert.Equal("dataKeys", none.ParamName);
        Assert.Equal(("dataKeys", "A header needs at least one data key. (Parameter 'dataKeys')"), (empty.ParamName, empty.Message));
        Assert.Equal(("dataKeys", "A data key is 32 bytes, not 31. (Parameter 'dataKeys')"), (shortKey.ParamName, shortKey.Message));
        Assert.Equal("dataKeys", longKey.ParamName);
    }

    [Fact]
    public void Given_data_keys_are_kept_as_given()
    {
        byte[] first = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
        byte[] second = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];

        var header = Crypt4ghHeader.Create([first, second]);
        using var input = new MemoryStream(header.Encrypt([TestData.Project.PublicKey]));
        var read = Crypt4ghHeader.Read(input, TestData.Project);

        Assert.Equal([first, second], read.DataKeys.Select(k => k.ToArray()));
    }

    [Fact]
    public void Edit_lists_with_negative_or_too_many_lengths_are_refused()
    {
        const int maxLengths = ((16 << 20) - 68 - 8) / 8; // what one packet of the largest accepted size holds

        var negative = Assert.Throws<ArgumentException>(() => Crypt4ghHeader.Create(1, [10, -1]));
        var tooMany = Assert.Throws<ArgumentException>(() => Crypt4ghHeader.Create(1, new long[maxLengths + 1]));
        var most = Crypt4ghHeader.Create(1, new long[maxLengths]);

        Assert.Equal(("editList", "Data edit list lengths cannot be negative. (Parameter 'editList')"), (negative.ParamName, negative.Message));
        Assert.Equal(("editList", $"A data edit list holds at most {maxLengths} lengths. (Parameter 'editList')"), (tooMany.ParamName, tooMany.Message));
        Assert.Equal(maxLengths, most.EditList!.Count);
    }

    [Fact]
    public void A_header_needs_a_recipient()
    {
        var error = Assert.Throws<ArgumentException>(() => Crypt4ghHeader.Create().Encrypt([]));

        Assert.Equal(("recipients", "At least one recipient is needed. (Parameter 'recipients')"), (error.ParamName, error.Message));
    }
}
