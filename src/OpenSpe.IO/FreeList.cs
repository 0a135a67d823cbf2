using System.Collections.Concurrent;

namespace OpenSpe.IO;

/// <summary>
/// Free items kept for reuse, at most <c>retained</c> of them; an item returned beyond that is dropped (left to the
/// garbage collector), so a burst does not pin its peak memory for good. Last in, first out: the item returned last is
/// handed out next, so a steady load keeps reusing the same few (resident) items instead of touching all it keeps. Thread-safe.
/// </summary>
public sealed class FreeList<T>(int retained)
{
    private readonly ConcurrentStack<T> _items = new();
    private int _count;

    /// <summary>Takes a free item, if any.</summary>
    public bool TryTake(out T item)
    {
        if (_items.TryPop(out item!))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    /// <summary>Keeps <paramref name="item"/> for reuse unless enough are kept already.</summary>
    public void Return(T item)
    {
        if (Interlocked.Increment(ref _count) <= retained)
        {
            _items.Push(item);
        }
        else
        {
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>Drops every free item.</summary>
    public void Clear()
    {
        while (TryTake(out _))
        {
        }
    }
}
