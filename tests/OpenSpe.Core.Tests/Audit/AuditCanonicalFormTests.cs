using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using OpenSpe.Core.Audit;

namespace OpenSpe.Core.Tests.Audit;

/// <summary>
/// The canonical JSON is what the chain hashes, so its exact bytes are a stored format: a log
/// written today must verify with every later version. These tests pin it.
/// </summary>
public sealed class AuditCanonicalFormTests
{
    // Golden values. They were computed once from this row and checked independently
    // (Python: sha256(b"\0" * 32 + json)). If a change to AuditCanonicalForm makes these tests
    // fail, every stored log would stop verifying: do not update the strings, keep version 1
    // readable and introduce a new format version ("v": 2) instead.
    private const string GoldenJson =
        "{\"v\":1,\"seq\":42,\"ts\":\"2026-01-01T00:00:00.123456Z\"," +
        "\"actor\":{\"sub\":\"sub-7f3a\",\"name\":\"ren\\u00E9e\",\"roles\":[\"auditor\",\"researcher\"],\"client\":\"spe-cli\",\"ip\":\"2001:db8::1\",\"ua\":\"spe/1.0 \\u0022quoted\\u0022 \\u003Cx\\u003E\"}," +
        "\"action\":\"audit.records.list\",\"resource\":{\"type\":\"audit-log\",\"id\":null,\"project\":\"p-1\"}," +
        "\"outcome\":\"denied\",\"status\":403,\"trace\":\"4bf92f3577b34da6a3ce929d0e0e4736\"," +
        "\"details\":{\"method\":\"GET\",\"path\":\"/api/v1/audit/records\",\"reason\":\"forbidden\"}}";

    private const string GoldenHashFromGenesis = "6e3e2dfb1c68dd825b33fcb0b6a583de1435dcf1a4940a687c0f217267721170";

    private const string GoldenHashFromCountingBytes = "c70168383029ddea9847b414aedab1a405bdcbe6ec9a0644f077c890aecc1685";

    private static AuditRow GoldenRow() => new()
    {
        Sequence = 42,
        TimestampMicros = 1_767_225_600_123_456,
        ActorSubject = "sub-7f3a",
        ActorUsername = "renée",
        ActorRoles = "auditor researcher",
        ActorClientId = "spe-cli",
        SourceIp = "2001:db8::1",
        UserAgent = "spe/1.0 \"quoted\" <x>",
        Action = "audit.records.list",
        ResourceType = "audit-log",
        ResourceId = null,
        ProjectId = "p-1",
        Outcome = "denied",
        HttpStatus = 403,
        TraceId = "4bf92f3577b34da6a3ce929d0e0e4736",
        DetailsJson = AuditCanonicalForm.SerializeDetails(new Dictionary<string, string>
        {
            ["reason"] = "forbidden",
            ["path"] = "/api/v1/audit/records",
            ["method"] = "GET",
        }),
    };

    private static byte[] CountingBytes() => Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

    private static string Canonical(AuditRow row)
    {
        var buffer = new ArrayBufferWriter<byte>();
        AuditCanonicalForm.Write(row, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Write_GoldenRow_ProducesExactlyVersion1Bytes()
    {
        Assert.Equal(GoldenJson, Canonical(GoldenRow()));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void ChainHash_GoldenRow_ProducesPinnedHash()
    {
        var json = Encoding.UTF8.GetBytes(GoldenJson);
        var fromGenesis = new byte[AuditCanonicalForm.HashSize];
        var fromCounting = new byte[AuditCanonicalForm.HashSize];

        AuditCanonicalForm.ChainHash(AuditCanonicalForm.GenesisHash, json, fromGenesis);
        AuditCanonicalForm.ChainHash(CountingBytes(), json, fromCounting);

        Assert.Equal(GoldenHashFromGenesis, Convert.ToHexStringLower(fromGenesis));
        Assert.Equal(GoldenHashFromCountingBytes, Convert.ToHexStringLower(fromCounting));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void ChainHash_IsSha256OfPreviousHashThenCanonicalJson()
    {
        var json = Encoding.UTF8.GetBytes(GoldenJson);
        var expected = SHA256.HashData([.. CountingBytes(), .. json]);
        var actual = new byte[AuditCanonicalForm.HashSize];

        AuditCanonicalForm.ChainHash(CountingBytes(), json, actual);

        Assert.Equal(expected, actual);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Hasher_GoldenRow_MatchesPinnedHash()
    {
        using var hasher = new AuditChainHasher();
        var hash = new byte[AuditCanonicalForm.HashSize];

        hasher.Compute(GoldenRow(), AuditCanonicalForm.GenesisHash, hash);

        Assert.Equal(GoldenHashFromGenesis, Convert.ToHexStringLower(hash));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Hasher_ReusedAcrossRows_GivesSameHashesAsFreshHashers()
    {
        using var reused = new AuditChainHasher();
        var previous = AuditCanonicalForm.GenesisHash.ToArray();
        for (var sequence = 1; sequence <= 50; sequence++)
        {
            var row = TestChain.NewRow(sequence);
            var viaReused = new byte[AuditCanonicalForm.HashSize];
            var viaFresh = new byte[AuditCanonicalForm.HashSize];
            reused.Compute(row, previous, viaReused);
            using (var fresh = new AuditChainHasher())
            {
                fresh.Compute(row, previous, viaFresh);
            }

            AuditCanonicalForm.ChainHash(previous, Encoding.UTF8.GetBytes(Canonical(row)), previous);
            Assert.Equal(viaFresh, viaReused);
            Assert.Equal(previous, viaReused);
        }
    }

    [Fact]
    public void GenesisHash_Is32ZeroBytes()
    {
        Assert.Equal(new byte[32], AuditCanonicalForm.GenesisHash.ToArray());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Write_NullFields_AreWrittenAsJsonNull()
    {
        var row = new AuditRow { Sequence = 1, TimestampMicros = 0, Action = "server.started", Outcome = "success" };

        Assert.Equal(
            "{\"v\":1,\"seq\":1,\"ts\":\"1970-01-01T00:00:00.000000Z\"," +
            "\"actor\":{\"sub\":null,\"name\":null,\"roles\":[],\"client\":null,\"ip\":null,\"ua\":null}," +
            "\"action\":\"server.started\",\"resource\":{\"type\":null,\"id\":null,\"project\":null}," +
            "\"outcome\":\"success\",\"status\":null,\"trace\":null,\"details\":{}}",
            Canonical(row));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Write_NullAndEmptyString_HashDifferently()
    {
        var withNull = new AuditRow { Sequence = 1, Action = "a", Outcome = "success", ResourceId = null };
        var withEmpty = new AuditRow { Sequence = 1, Action = "a", Outcome = "success", ResourceId = "" };

        Assert.NotEqual(Canonical(withNull), Canonical(withEmpty));
    }

    [Fact]
    public void Write_Roles_SplitOnSpacesWithoutEmptyEntries()
    {
        var row = new AuditRow { Sequence = 1, Action = "a", Outcome = "success", ActorRoles = " auditor  researcher " };

        Assert.Contains("\"roles\":[\"auditor\",\"researcher\"]", Canonical(row), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void Write_EveryCoveredFieldChangesTheBytes()
    {
        var original = Canonical(GoldenRow());
        var edits = new List<Action<AuditRow>>
        {
            r => r.Sequence++,
            r => r.TimestampMicros++,
            r => r.ActorSubject = "x",
            r => r.ActorUsername = "x",
            r => r.ActorRoles = "auditor",
            r => r.ActorClientId = null,
            r => r.SourceIp = "10.0.0.1",
            r => r.UserAgent = "x",
            r => r.Action = "x",
            r => r.ResourceType = null,
            r => r.ResourceId = "x",
            r => r.ProjectId = "p-2",
            r => r.Outcome = "success",
            r => r.HttpStatus = 200,
            r => r.HttpStatus = null,
            r => r.TraceId = null,
            r => r.DetailsJson = "{}",
        };

        foreach (var edit in edits)
        {
            var row = GoldenRow();
            edit(row);
            Assert.NotEqual(original, Canonical(row));
        }
    }

    [Fact]
    public void Write_HashIsNotPartOfTheCanonicalForm()
    {
        var row = GoldenRow();
        row.Hash = CountingBytes();

        Assert.Equal(GoldenJson, Canonical(row));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void SerializeDetails_SortsKeysByOrdinal()
    {
        var details = new Dictionary<string, string> { ["b"] = "1", ["a"] = "2", ["B"] = "3", ["_"] = "4", ["ä"] = "5", ["A1"] = "6" };

        // Ordinal UTF-16 order: 'A' (0x41) < 'B' < '_' (0x5F) < 'a' < 'b' < 'ä' (0xE4); culture order would differ.
        Assert.Equal("{\"A1\":\"6\",\"B\":\"3\",\"_\":\"4\",\"a\":\"2\",\"b\":\"1\",\"\\u00E4\":\"5\"}", AuditCanonicalForm.SerializeDetails(details));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public void SerializeDetails_IsIndependentOfInsertionOrder()
    {
        var forward = new Dictionary<string, string> { ["x"] = "1", ["y"] = "2", ["z"] = "3" };
        var backward = new Dictionary<string, string> { ["z"] = "3", ["y"] = "2", ["x"] = "1" };

        Assert.Equal(AuditCanonicalForm.SerializeDetails(forward), AuditCanonicalForm.SerializeDetails(backward));
    }

    [Fact]
    public void SerializeDetails_NullOrEmpty_IsEmptyObject()
    {
        Assert.Equal("{}", AuditCanonicalForm.SerializeDetails(null));
        Assert.Equal("{}", AuditCanonicalForm.SerializeDetails(new Dictionary<string, string>()));
    }

    [Fact]
    public void SerializeDetails_LongValue_IsTruncatedToMaxLength()
    {
        var details = new Dictionary<string, string>
        {
            ["exact"] = new('e', AuditCanonicalForm.MaxDetailValueLength),
            ["long"] = new string('l', AuditCanonicalForm.MaxDetailValueLength) + "overflow",
        };

        var json = AuditCanonicalForm.SerializeDetails(details);

        Assert.Equal(
            "{\"exact\":\"" + new string('e', AuditCanonicalForm.MaxDetailValueLength) + "\",\"long\":\"" + new string('l', AuditCanonicalForm.MaxDetailValueLength) + "\"}",
            json);
    }

    [Fact]
    public void SerializeDetails_EscapesQuotesAndControlCharacters()
    {
        var json = AuditCanonicalForm.SerializeDetails(new Dictionary<string, string> { ["k\"ey"] = "line\nbreak" });

        Assert.Equal("{\"k\\u0022ey\":\"line\\nbreak\"}", json);
    }

    [Fact]
    public void SerializeDetails_AtMostMaxDetails()
    {
        var allowed = Enumerable.Range(0, AuditCanonicalForm.MaxDetails).ToDictionary(i => "k" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture), i => "v");
        var tooMany = Enumerable.Range(0, AuditCanonicalForm.MaxDetails + 1).ToDictionary(i => "k" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture), i => "v");

        Assert.StartsWith("{\"k00\":\"v\"", AuditCanonicalForm.SerializeDetails(allowed), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => AuditCanonicalForm.SerializeDetails(tooMany));
    }

    [Fact]
    public void FromEntry_MapsEveryField()
    {
        var entry = new AuditEntry(
            new AuditActor("sub-1", "alice", ["auditor", "researcher"], "spe-cli", "192.0.2.1", "curl/8"),
            "audit.verify",
            new AuditResource("audit-log", "log-1", "p-9"),
            AuditOutcome.Error,
            500,
            "4bf92f3577b34da6a3ce929d0e0e4736",
            new Dictionary<string, string> { ["z"] = "1", ["a"] = "2" });

        var row = AuditRow.FromEntry(7, 123, entry);

        Assert.Equal(7, row.Sequence);
        Assert.Equal(123, row.TimestampMicros);
        Assert.Equal("sub-1", row.ActorSubject);
        Assert.Equal("alice", row.ActorUsername);
        Assert.Equal("auditor researcher", row.ActorRoles);
        Assert.Equal("spe-cli", row.ActorClientId);
        Assert.Equal("192.0.2.1", row.SourceIp);
        Assert.Equal("curl/8", row.UserAgent);
        Assert.Equal("audit.verify", row.Action);
        Assert.Equal("audit-log", row.ResourceType);
        Assert.Equal("log-1", row.ResourceId);
        Assert.Equal("p-9", row.ProjectId);
        Assert.Equal("error", row.Outcome);
        Assert.Equal(500, row.HttpStatus);
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", row.TraceId);
        Assert.Equal("{\"a\":\"2\",\"z\":\"1\"}", row.DetailsJson);
        Assert.Empty(row.Hash);
    }

    [Fact]
    public void Clone_IsIndependentOfTheReusedInstance()
    {
        var row = TestChain.NewRow(1);
        var copy = row.Clone();

        row.Sequence = 99;
        row.Action = "changed";

        Assert.Equal(1, copy.Sequence);
        Assert.Equal("test.action", copy.Action);
    }

    [Theory]
    [InlineData(AuditOutcome.Success, "success")]
    [InlineData(AuditOutcome.Denied, "denied")]
    [InlineData(AuditOutcome.Error, "error")]
    public void OutcomeNames_RoundTrip(AuditOutcome outcome, string wire)
    {
        Assert.Equal(wire, outcome.ToWire());
        Assert.True(AuditOutcomeNames.TryParse(wire, out var parsed));
        Assert.Equal(outcome, parsed);
    }

    [Theory]
    [InlineData("Success")]
    [InlineData("ok")]
    [InlineData("")]
    [InlineData(null)]
    public void OutcomeNames_UnknownOrWrongCase_IsRejected(string? wire)
    {
        Assert.False(AuditOutcomeNames.TryParse(wire, out _));
    }

    [Fact]
    public void OutcomeNames_UndefinedEnumValue_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ((AuditOutcome)42).ToWire());
    }
}
