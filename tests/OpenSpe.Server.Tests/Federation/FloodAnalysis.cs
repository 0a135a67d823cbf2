using System.Text.Json;
using OpenSpe.Server.Federation;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// A test component that reports up to <see cref="Events"/> progress events of 1 KiB as fast as it may: with a watcher that
/// stops reading, how many it got out shows whether the sender's memory is bounded.
/// </summary>
internal sealed class FloodAnalysis : IFederatedAnalysis
{
    public const string Name = "test.flood";
    public const int Events = 100_000;

    private static readonly string Payload = new('x', 1024);
    private long _emitted;

    public string Component => Name;

    /// <summary>Progress events handed to the node so far.</summary>
    public long Emitted => Interlocked.Read(ref _emitted);

    public async Task<JsonElement> RunAsync(FederatedAnalysisContext context, CancellationToken cancellationToken)
    {
        for (var i = 0; i < Events; i++)
        {
            await context.Progress(Payload, cancellationToken);
            Interlocked.Increment(ref _emitted);
        }

        return JsonSerializer.SerializeToElement(new { events = Events });
    }
}
