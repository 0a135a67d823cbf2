
namespace OpenSpe.IO;

/// <summary>
/// Blocks of <see cref="BlockSize"/> bytes at O_DIRECT-aligned addresses, shared by the PATCH handler and the ingest
/// verifier: a request body is read into a block, written to the staging file straight from it, and handed to the
/// verifier without another copy. A few free blocks are kept for reuse; any others are left to the garbage collector.
/// </summary>
public sealed class AlignedBlockPool(int retained)
{
    /// <summary>The size of every block.</summary>
    public const int BlockSize = 1 << 20;

    private readonly FreeList<Memory<byte>> _free = new(retained);

    /// <summary>The pool uploads use: enough free blocks for a few uploads in flight.</summary>
    public static AlignedBlockPool Shared { get; } = new(retained: 16);

    /// <summary>A block for the caller to own until it is returned (or dropped).</summary>
    public Memory<byte> Rent() => _free.TryTake(out var block) ? block : DirectIo.AlignedBuffer(BlockSize);

    /// <summary>Gives a block back; the caller must not touch it afterwards.</summary>
    public void Return(Memory<byte> block)
    {
        if (block.Length != BlockSize)
        {
            throw new ArgumentException("Not a block of this pool.", nameof(block));
        }

        _free.Return(block);
    }
}
