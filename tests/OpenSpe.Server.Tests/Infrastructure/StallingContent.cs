using System.Net;
using System.Net.Http.Headers;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>A request body that sends its first bytes, then waits (as a slow client does) until stopped or cancelled.</summary>
internal sealed class StallingContent : HttpContent
{
    private readonly byte[] _first;
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StallingContent(byte[] first)
    {
        _first = first;
        Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
    }

    public void Stop() => _stop.TrySetResult();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(_first, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        await _stop.Task.WaitAsync(cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
