using System.Diagnostics;
using System.Text;
using OpenSpe.Disclosure.Identifiers;
using OpenSpe.Disclosure.Images;

namespace OpenSpe.Disclosure.Tests;

/// <summary>
/// Small hostile outputs must not make the automatic check run for minutes or hold gigabytes (the offline
/// <c>spe airlock check</c> and the server's export check run the same code): a review found a 1 MB PNG of compressed
/// chunks that held 2.2 GB, an 800 KB line of e-mail addresses that took 95 s, 2 MB of colons that took 145 s and a description of
/// 100,000 outputs that took 42 s.
/// </summary>
[Trait("Requirement", "EHDSR-13")]
[Trait("Requirement", "SPER-4")]
public sealed class HostileInputLimitTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(10);

    [Fact]
    public void PngOfManyCompressedChunks_InflatesAtMostTheLimitInTotal_AndIsReview()
    {
        // Each zTXt chunk is ~16 KiB of zlib that inflates to 16 MiB; 40 of them inflated 640 MiB, all kept for the scan.
        var bomb = TestImages.ZText("Comment", new string('a', ImageReading.MaxInflatedBytes));
        var png = TestImages.Png;
        for (var i = 0; i < 40; i++)
        {
            png = TestImages.WithChunk(png, "zTXt", bomb);
        }

        var reading = PngReader.Read(png);

        var inflated = reading.Segments.Where(s => s.Where.EndsWith("(inflated)", StringComparison.Ordinal)).Sum(s => (long)s.Bytes.Length);
        Assert.InRange(inflated, 1, ImageReading.MaxInflatedBytes);
        var malformed = reading.Problems.Where(p => p.Rule == "image.malformed").ToList();
        Assert.Single(malformed, p => p.Reason.Contains("already inflated", StringComparison.Ordinal));
        Assert.All(malformed, p => Assert.Equal(DisclosureStatus.Review, p.Severity));
    }

    [Fact]
    public void OneLongLineOfIdentifiers_IsScannedInLinearTime_WithTheRightColumns()
    {
        const int count = 150_000;
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("a@bb.cc ", count)) + "\n\u00e9 a@bb.cc");

        var watch = Stopwatch.StartNew();
        var matches = IdentifierScanner.Scan(text);
        watch.Stop();

        Assert.Equal(count + 1, matches.Count);
        Assert.Equal(new IdentifierMatch(IdentifierKind.Email, 1, 1), matches[0]);
        Assert.Equal(new IdentifierMatch(IdentifierKind.Email, 1, (8 * (count - 1)) + 1), matches[count - 1]);
        Assert.Equal(new IdentifierMatch(IdentifierKind.Email, 2, 3), matches[count]);
        Assert.True(watch.Elapsed < Quick, $"scanning took {watch.Elapsed}");
    }

    [Fact]
    public void ADescriptionOfManyOutputs_IsParsedInLinearTime_AndADuplicateAtItsEndIsStillFound()
    {
        const int count = 100_000;
        var outputs = string.Join(",", Enumerable.Range(0, count).Select(i => "{\"file\": \"f" + i + ".txt\", \"kind\": \"text\"}"));

        var watch = Stopwatch.StartNew();
        var parsed = Descriptions.OutputDescriptionParser.Parse("{\"outputs\": [" + outputs + "]}");
        var duplicate = Assert.Throws<Descriptions.DescriptionException>(() =>
            Descriptions.OutputDescriptionParser.Parse("{\"outputs\": [" + outputs + ", {\"file\": \"f7.txt\", \"kind\": \"text\"}]}"));
        watch.Stop();

        Assert.Equal(count, parsed.Count);
        Assert.Equal($"outputs[{count}]: 'f7.txt' is described twice.", duplicate.Message);
        Assert.True(watch.Elapsed < Quick, $"parsing took {watch.Elapsed}");
    }

    [Fact]
    public void ALongRunOfColons_IsScannedInLinearTime_AndAnAddressAfterItIsFound()
    {
        var text = Encoding.ASCII.GetBytes(new string(':', 2_000_000) + " fe80::1 ");

        var watch = Stopwatch.StartNew();
        var matches = IdentifierScanner.Scan(text);
        watch.Stop();

        var match = Assert.Single(matches);
        Assert.Equal(new IdentifierMatch(IdentifierKind.IPv6, 1, 2_000_002), match);
        Assert.True(watch.Elapsed < Quick, $"scanning took {watch.Elapsed}");
    }
}
