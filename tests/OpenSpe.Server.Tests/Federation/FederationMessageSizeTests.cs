using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using OpenSpe.Federation.V1;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// The federation listener's message size limit (<c>Federation:MaxMessageBytes</c>, TIR-36), set small here: a message up to the
/// limit is served, one byte more is refused with RESOURCE_EXHAUSTED, and the refusal is audited with the peer, for a unary call
/// (whose request gRPC reads before any interceptor runs) as for a stream.
/// </summary>
public sealed class FederationMessageSizeTests : IAsyncLifetime
{
    private const int Limit = 16 * 1024;

    private readonly FederationNodeFixture _node = new();

    public async ValueTask InitializeAsync() => await _node.StartAsync(new Dictionary<string, string?> { ["Federation:MaxMessageBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    [Fact]
    [Trait("Requirement", "TIR-36")]
    public async Task A_message_under_the_limit_is_served()
    {
        var client = _node.Client("node-b", out var channel);
        using var _ = channel;
        var request = new CapabilitiesRequest { Permit = _node.SignedPermit };
        Assert.True(request.CalculateSize() < Limit);

        var capabilities = await client.GetCapabilitiesAsync(request, FederationNodeFixture.Deadline());

        Assert.Equal(["cohort", "small"], capabilities.Datasets);
    }

    [Fact]
    [Trait("Requirement", "TIR-36")]
    [Trait("Requirement", "TIR-33")]
    public async Task A_unary_message_over_the_limit_is_refused_with_resource_exhausted_and_audited_while_one_at_the_limit_is_read()
    {
        var client = _node.Client("node-b", out var channel);
        using var _ = channel;
        // Note: a permit field of n characters makes a message of 1 (tag) + 2 (length, under 16384) + n bytes.
        var atLimit = new CapabilitiesRequest { Permit = new string('x', Limit - 3) };
        var overLimit = new CapabilitiesRequest { Permit = new string('x', Limit - 2) };
        Assert.Equal(Limit, atLimit.CalculateSize());
        Assert.Equal(Limit + 1, overLimit.CalculateSize());

        // At the limit the message reaches the service, which refuses the permit for what it is, not for its size.
        var read = await Assert.ThrowsAsync<RpcException>(async () => await client.GetCapabilitiesAsync(atLimit, FederationNodeFixture.Deadline()));
        Assert.NotEqual(StatusCode.ResourceExhausted, read.StatusCode);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.GetCapabilitiesAsync(overLimit, FederationNodeFixture.Deadline()));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        var record = Assert.Single(await _node.RecordsAsync("federation.call",
            where: r => r.DetailsJson.Contains("GetCapabilities", StringComparison.Ordinal) && r.DetailsJson.Contains("ResourceExhausted", StringComparison.Ordinal)));
        AssertRefusalRecord(record);
    }

    [Fact]
    [Trait("Requirement", "TIR-36")]
    [Trait("Requirement", "TIR-33")]
    public async Task A_stream_message_over_the_limit_is_refused_with_resource_exhausted_and_audited()
    {
        var client = _node.Client("node-b", out var channel);
        using var _ = channel;
        using var train = client.Train(FederationNodeFixture.Deadline());
        var open = new TrainMessage { Kind = "open", Requester = FederationNodeFixture.Researcher, Component = "openspe.fedavg-logistic", Permit = new string('x', Limit) };
        Assert.True(open.CalculateSize() > Limit);

        try
        {
            await train.RequestStream.WriteAsync(open);
        }
        catch (RpcException)
        {
            // The node may have answered (and ended the call) before the message was all written; the answer is read below.
        }

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await train.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        var record = Assert.Single(await _node.RecordsAsync("federation.call",
            where: r => r.DetailsJson.Contains("/Train", StringComparison.Ordinal) && r.DetailsJson.Contains("ResourceExhausted", StringComparison.Ordinal)));
        AssertRefusalRecord(record);
    }

    private static void AssertRefusalRecord(Core.Audit.AuditRow record)
    {
        Assert.Equal("denied", record.Outcome);
        var details = JsonDocument.Parse(record.DetailsJson).RootElement;
        Assert.Equal("node-b", details.GetProperty("peer").GetString());
        Assert.Equal("ResourceExhausted", details.GetProperty("status").GetString());
        Assert.Contains("message size", details.GetProperty("reason").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(64, details.GetProperty("certificate").GetString()!.Length);
    }
}
