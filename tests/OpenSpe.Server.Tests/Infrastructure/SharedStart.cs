namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>
/// Something a class's tests share (a server, usually), started once by the first test that asks for it rather than by the
/// class fixture's constructor: a component that is missing (PostgreSQL) then skips or fails that test, as it would in a
/// test of its own, instead of failing the fixture. Disposed with the class fixture that holds it.
/// </summary>
public sealed class SharedStart<T>(Func<Task<T>> start) : IAsyncDisposable where T : class, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private T? _value;

    public async Task<T> GetAsync()
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            return _value ??= await start();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_value is not null)
        {
            await _value.DisposeAsync();
        }

        _gate.Dispose();
    }
}
