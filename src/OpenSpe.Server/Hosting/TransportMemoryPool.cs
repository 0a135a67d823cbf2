using System.Buffers;
using Microsoft.AspNetCore.Connections;
using OpenSpe.IO;

namespace OpenSpe.Server.Hosting;

/// <summary>
/// Kestrel's buffers, in blocks of <see cref="BlockSize"/> instead of the default 4 KiB. A socket read fills at most one
/// block, so with 4 KiB blocks a 2 GiB upload took half a million <c>recv</c> calls, each with its loopback TCP
/// acknowledgement; those cost more than the upload's TLS decryption. Larger blocks cost nothing while a connection idles:
/// Kestrel waits for data before it rents a receive buffer.
/// </summary>
internal sealed class TransportMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    /// <summary>The size of every block.</summary>
    public const int BlockSize = 64 * 1024;

    /// <inheritdoc/>
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new TransportMemoryPool(BlockSize, retained: 128);
}

/// <summary>A pool of pinned arrays of one size; at most <c>retained</c> free blocks are kept, the rest left to the collector.</summary>
internal sealed class TransportMemoryPool(int blockSize, int retained) : MemoryPool<byte>
{
    private readonly FreeList<Block> _free = new(retained);
    private bool _disposed;

    /// <inheritdoc/>
    public override int MaxBufferSize => blockSize;

    /// <inheritdoc/>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, blockSize);
        return _free.TryTake(out var block) ? block : new Block(this, GC.AllocateUninitializedArray<byte>(blockSize, pinned: true));
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private void Return(Block block)
    {
        if (!Volatile.Read(ref _disposed))
        {
            _free.Return(block);
        }
    }

    private sealed class Block(TransportMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = array;

        public void Dispose() => pool.Return(this);
    }
}
