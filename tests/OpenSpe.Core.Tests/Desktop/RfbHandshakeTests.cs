using OpenSpe.Core.Desktop;

namespace OpenSpe.Core.Tests.Desktop;

/// <summary>The RFB 3.8 handshake through the filters: version, security type None only, SecurityResult, ClientInit, ServerInit.</summary>
public sealed class RfbHandshakeTests
{
    [Fact]
    public void A_full_handshake_passes_every_byte_and_offers_the_client_None_alone()
    {
        var harness = new RfbHarness();
        byte[] serverInit = Rfb.ServerInit(1280, 800, name: "desktop");

        RfbHarness.AssertOpen(harness.Server(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Client(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Server(Rfb.SecurityTypes(2, 16, 1, 19)));
        RfbHarness.AssertOpen(harness.Client([1]));
        RfbHarness.AssertOpen(harness.Server(Rfb.U32(0)));
        RfbHarness.AssertOpen(harness.Client([1]));
        RfbHarness.AssertOpen(harness.Server(serverInit));

        Assert.Equal([.. Rfb.Version(), 1, 1, 0, 0, 0, 0, .. serverInit], harness.ToClient.WrittenSpan.ToArray());
        Assert.Equal([.. Rfb.Version(), 1, 1], harness.ToServer.WrittenSpan.ToArray());
        Assert.Equal(serverInit.Length + 12 + 2 + 4, harness.Session.ServerToClient.Counters.BytesForwarded);
        Assert.Equal(serverInit.Length + 12 + 4 + 4 + 1, harness.Session.ServerToClient.Counters.BytesIn);
    }

    [Fact]
    public void The_handshake_fed_one_byte_at_a_time_forwards_the_same_bytes()
    {
        var harness = new RfbHarness();
        byte[] serverInit = Rfb.ServerInit(1280, 800, name: "a name");

        RfbHarness.AssertOpen(harness.ServerBytewise(Rfb.Version()));
        RfbHarness.AssertOpen(harness.ClientBytewise(Rfb.Version()));
        RfbHarness.AssertOpen(harness.ServerBytewise(Rfb.SecurityTypes(2, 1)));
        RfbHarness.AssertOpen(harness.Client([1]));
        RfbHarness.AssertOpen(harness.ServerBytewise(Rfb.U32(0)));
        RfbHarness.AssertOpen(harness.Client([0]));
        RfbHarness.AssertOpen(harness.ServerBytewise([.. serverInit, 2]));

        Assert.Equal([.. Rfb.Version(), 1, 1, 0, 0, 0, 0, .. serverInit, 2], harness.ToClient.WrittenSpan.ToArray());
        Assert.Equal([.. Rfb.Version(), 1, 0], harness.ToServer.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData("003.003")]
    [InlineData("003.007")]
    [InlineData("003.889")]
    [InlineData("004.001")]
    [InlineData("003.008 ")]
    public void A_server_version_other_than_3_8_closes(string version)
    {
        var harness = new RfbHarness();
        var bytes = Rfb.Version(version)[..12];

        Assert.Equal(RfbCloseReason.UnsupportedVersion, harness.Server(bytes).CloseReason);
        Assert.Equal(0, harness.ToClient.WrittenCount);
    }

    [Theory]
    [InlineData("003.003")]
    [InlineData("003.007")]
    [InlineData("003.009")]
    public void A_client_version_other_than_3_8_closes(string version)
    {
        var harness = new RfbHarness();
        RfbHarness.AssertOpen(harness.Server(Rfb.Version()));

        Assert.Equal(RfbCloseReason.UnsupportedVersion, harness.Client(Rfb.Version(version)).CloseReason);
        Assert.Equal(0, harness.ToServer.WrittenCount);
    }

    [Theory]
    [InlineData(new byte[] { 2 })]
    [InlineData(new byte[] { 2, 16, 18, 19 })]
    [InlineData(new byte[] { 0 })]
    public void A_server_that_does_not_offer_None_closes(byte[] types)
    {
        var harness = new RfbHarness();
        RfbHarness.AssertOpen(harness.Server(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Client(Rfb.Version()));
        harness.ToClient.Clear();

        Assert.Equal(RfbCloseReason.NoneSecurityNotOffered, harness.Server(Rfb.SecurityTypes(types)).CloseReason);
        Assert.Equal(0, harness.ToClient.WrittenCount);
    }

    [Fact]
    public void A_server_that_offers_no_type_at_all_refuses_the_connection()
    {
        var harness = new RfbHarness();
        RfbHarness.AssertOpen(harness.Server(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Client(Rfb.Version()));
        harness.ToClient.Clear();

        // Count 0, then a reason string the filter need not read.
        Assert.Equal(RfbCloseReason.ServerRefused, harness.Server([0, 0, 0, 0, 2, (byte)'n', (byte)'o']).CloseReason);
        Assert.Equal(0, harness.ToClient.WrittenCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(16)]
    [InlineData(19)]
    public void A_client_that_picks_a_type_other_than_None_closes(byte type)
    {
        var harness = new RfbHarness();
        RfbHarness.AssertOpen(harness.Server(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Client(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Server(Rfb.SecurityTypes(1, 2)));
        harness.ToServer.Clear();

        Assert.Equal(RfbCloseReason.SecurityTypeNotNone, harness.Client([type]).CloseReason);
        Assert.Equal(0, harness.ToServer.WrittenCount);
    }

    [Fact]
    public void A_failed_security_result_closes()
    {
        var harness = new RfbHarness();
        RfbHarness.AssertOpen(harness.Server(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Client(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Server(Rfb.SecurityTypes(1)));
        RfbHarness.AssertOpen(harness.Client([1]));
        harness.ToClient.Clear();

        Assert.Equal(RfbCloseReason.ServerRefused, harness.Server(Rfb.U32(1)).CloseReason);
        Assert.Equal(0, harness.ToClient.WrittenCount);
    }

    [Theory]
    [InlineData(4096, RfbCloseReason.None)]
    [InlineData(4097, RfbCloseReason.NameTooLong)]
    public void The_desktop_name_is_bounded(int length, RfbCloseReason expected)
    {
        var harness = new RfbHarness();
        RfbHarness.AssertOpen(harness.Server(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Client(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Server(Rfb.SecurityTypes(1)));
        RfbHarness.AssertOpen(harness.Client([1]));
        RfbHarness.AssertOpen(harness.Server(Rfb.U32(0)));
        RfbHarness.AssertOpen(harness.Client([1]));

        Assert.Equal(expected, harness.Server(Rfb.ServerInit(64, 48, name: new string('n', length))).CloseReason);
    }

    [Theory]
    [InlineData(24, 24)]
    [InlineData(32, 0)]
    [InlineData(16, 17)]
    [InlineData(0, 0)]
    public void A_server_pixel_format_the_rfc_does_not_allow_closes(int bitsPerPixel, int depth)
    {
        var harness = new RfbHarness();
        RfbHarness.AssertOpen(harness.Server(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Client(Rfb.Version()));
        RfbHarness.AssertOpen(harness.Server(Rfb.SecurityTypes(1)));
        RfbHarness.AssertOpen(harness.Client([1]));
        RfbHarness.AssertOpen(harness.Server(Rfb.U32(0)));
        RfbHarness.AssertOpen(harness.Client([1]));

        var init = Rfb.ServerInit(64, 48, 32, 24);
        init[4] = (byte)bitsPerPixel;
        init[5] = (byte)depth;
        Assert.Equal(RfbCloseReason.MalformedMessage, harness.Server(init).CloseReason);
    }

    /// <summary>Each step of one side fed before the step of the other side it answers.</summary>
    public static TheoryData<string> EarlySteps => new() { "client version", "security list", "security choice", "security result", "client init", "server init", "client message" };

    [Theory]
    [MemberData(nameof(EarlySteps))]
    public void A_step_before_the_one_it_answers_closes(string step)
    {
        var harness = new RfbHarness();
        var steps = new (bool Server, byte[] Bytes, string Name)[]
        {
            (true, Rfb.Version(), "server version"),
            (false, Rfb.Version(), "client version"),
            (true, Rfb.SecurityTypes(1), "security list"),
            (false, [1], "security choice"),
            (true, Rfb.U32(0), "security result"),
            (false, [1], "client init"),
            (true, Rfb.ServerInit(64, 48), "server init"),
            (false, Rfb.PointerEvent(), "client message"),
        };
        var index = Array.FindIndex(steps, s => s.Name == step);

        // Everything before the step it answers, then the step itself.
        foreach (var (server, bytes, _) in steps[..(index - 1)])
        {
            RfbHarness.AssertOpen(server ? harness.Server(bytes) : harness.Client(bytes));
        }

        var early = steps[index];
        var result = early.Server ? harness.Server(early.Bytes) : harness.Client(early.Bytes);
        Assert.Equal(RfbCloseReason.OutOfOrder, result.CloseReason);
    }

    [Fact]
    public void A_policy_with_a_negative_cut_text_limit_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RfbSession(new RfbPolicy(MaxCutTextLength: -1)));
        Assert.Throws<ArgumentNullException>(() => new RfbSession(null!));
    }
}
