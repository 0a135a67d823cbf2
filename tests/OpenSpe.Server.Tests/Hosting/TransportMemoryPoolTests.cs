using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Tests.Hosting;

/// <summary>Kestrel's buffer pool: blocks of one size, reused, never larger requests than a block.</summary>
public sealed class TransportMemoryPoolTests
{
    [Fact]
    public void Blocks_are_of_the_pool_size_reused_after_return_and_larger_requests_are_refused()
    {
        using var pool = new TransportMemoryPoolFactory().Create();
        Assert.Equal(TransportMemoryPoolFactory.BlockSize, pool.MaxBufferSize);

        var first = pool.Rent();
        Assert.Equal(TransportMemoryPoolFactory.BlockSize, first.Memory.Length);
        var memory = first.Memory;
        first.Dispose();
        using (var again = pool.Rent(100))
        {
            Assert.True(again.Memory.Equals(memory));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(TransportMemoryPoolFactory.BlockSize + 1));
    }

    [Fact]
    public void Only_the_retained_number_of_free_blocks_is_kept()
    {
        using var pool = new TransportMemoryPool(blockSize: 1024, retained: 1);
        var a = pool.Rent();
        var b = pool.Rent();
        a.Dispose();
        b.Dispose(); // over the limit: left to the collector
        using var first = pool.Rent();
        using var second = pool.Rent();
        Assert.True(first.Memory.Equals(a.Memory));
        Assert.False(second.Memory.Equals(b.Memory));
    }
}
