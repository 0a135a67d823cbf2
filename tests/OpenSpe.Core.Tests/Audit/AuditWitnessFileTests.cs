using System.Text;
using OpenSpe.Core.Audit;

namespace OpenSpe.Core.Tests.Audit;

/// <summary>
/// A witness file's newest checkpoint is read from its end, as the server does at every push and every view of the witnesses'
/// state: it is the last non-blank line whatever comes before it, a malformed last line is refused, and so is a last line
/// too long to be a checkpoint.
/// </summary>
public sealed class AuditWitnessFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("openspe-witness-file-").FullName;

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public void The_last_of_many_lines_is_the_newest_checkpoint_and_agrees_with_reading_them_all()
    {
        using var chain = TestChain.Create(3_000);
        var path = Write("many.jsonl", string.Concat(chain.Checkpoints.Select(c => Line(chain, c) + "\n")));

        var last = AuditWitnessFile.Last(path);
        var all = AuditWitnessFile.ReadAll(path);

        Assert.True(new FileInfo(path).Length > 4096 * 4, "the file must span many blocks");
        Assert.Equal(all[^1].Checkpoint, last);
        Assert.Equal(chain.Checkpoints[^1].Sequence, last!.Sequence);
    }

    [Theory]
    [Trait("Requirement", "OPR-7")]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\r\n\r\n  \t\n")]
    public void A_file_of_blank_lines_holds_no_checkpoint(string content) =>
        Assert.Null(AuditWitnessFile.Last(Write("blank.jsonl", content)));

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public void An_absent_file_holds_no_checkpoint() => Assert.Null(AuditWitnessFile.Last(Path.Combine(_directory, "absent.jsonl")));

    [Theory]
    [Trait("Requirement", "OPR-7")]
    [InlineData("\n")]
    [InlineData("")]
    [InlineData("\r\n\n\n   \n")]
    public void Trailing_blank_lines_and_a_missing_final_newline_do_not_hide_the_last_checkpoint(string after)
    {
        using var chain = TestChain.Create(30);
        var path = Write("tail.jsonl", string.Join("\n", chain.Checkpoints.Select(c => Line(chain, c))) + after);

        Assert.Equal(chain.Checkpoints[^1].Sequence, AuditWitnessFile.Last(path)!.Sequence);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public void A_malformed_last_line_is_refused_with_the_files_name()
    {
        using var chain = TestChain.Create(30);
        var path = Write("bad.jsonl", Line(chain, chain.Checkpoints[0]) + "\n{\"sequence\":\n");

        var refused = Assert.Throws<FormatException>(() => AuditWitnessFile.Last(path));

        Assert.Contains(path, refused.Message, StringComparison.Ordinal);
        Assert.Contains("last line", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public void A_last_line_longer_than_any_checkpoint_is_refused_without_reading_the_whole_file()
    {
        var path = Write("long.jsonl", new string('x', AuditWitnessFile.MaxLineBytes * 4));

        var refused = Assert.Throws<FormatException>(() => AuditWitnessFile.Last(path));

        Assert.Contains("longer than", refused.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Line(TestChain chain, AuditCheckpoint checkpoint) => AuditCheckpointDocument.From(checkpoint, chain.Key).ToJsonLine();

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }
}
