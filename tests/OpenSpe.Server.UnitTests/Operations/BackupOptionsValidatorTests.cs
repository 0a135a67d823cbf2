using OpenSpe.Crypt4gh;
using OpenSpe.Server.Operations.Backups;

namespace OpenSpe.Server.UnitTests.Operations;

/// <summary>
/// A backup schedule the server would run badly stops its start (OPR-21): a directory inside the data directory (lost with
/// it, and copied into the next backup), also through a symbolic link, or around it, a key that is not a Crypt4GH public key, an interval out of range.
/// </summary>
public sealed class BackupOptionsValidatorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("spe-backup-options-").FullName;

    public BackupOptionsValidatorTests()
    {
        using var key = Crypt4ghPrivateKey.Generate();
        File.WriteAllText(Path.Join(_root, "backup.pub"), key.PublicKey.ToPem());
        File.WriteAllText(Path.Join(_root, "not-a-key.pub"), "hello\n");
    }

    [Theory]
    [Trait("Requirement", "OPR-21")]
    [InlineData("01:00:00", "data/backups", "backup.pub", "outside the data directory")]
    [InlineData("01:00:00", "data", "backup.pub", "outside the data directory")]
    [InlineData("01:00:00", "", "backup.pub", "outside the data directory (and must not contain it)")]
    [InlineData("01:00:00", "elsewhere", "missing.pub", "is not a Crypt4GH public key")]
    [InlineData("01:00:00", "elsewhere", "not-a-key.pub", "is not a Crypt4GH public key")]
    [InlineData("00:00:10", "elsewhere", "backup.pub", "Backup:Interval")]
    [InlineData("32.00:00:00", "elsewhere", "backup.pub", "Backup:Interval")]
    [InlineData("01:00:00", null, "backup.pub", "Backup:Directory must be an absolute path")]
    [InlineData("01:00:00", "elsewhere", null, "Backup:RecipientPublicKeyPath must be the absolute path")]
    [InlineData("01:00:00", "elsewhere", "backup.pub", null)]
    [InlineData("01:00:00", "data-next-door", "backup.pub", null)]
    public void A_schedule_is_refused_with_the_reason_or_accepted(string interval, string? directory, string? key, string? refusal)
    {
        var result = new BackupOptionsValidator(Path.Join(_root, "data")).Validate(null, new BackupOptions
        {
            Interval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture),
            Directory = directory is null ? null : Path.Join(_root, directory),
            RecipientPublicKeyPath = key is null ? null : Path.Join(_root, key),
        });

        if (refusal is null)
        {
            Assert.True(result.Succeeded, result.FailureMessage);
        }
        else
        {
            Assert.Contains(refusal, result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    public void A_relative_directory_is_refused()
    {
        var result = new BackupOptionsValidator(Path.Join(_root, "data")).Validate(null, new BackupOptions
        {
            Interval = TimeSpan.FromHours(1),
            Directory = "backups",
            RecipientPublicKeyPath = Path.Join(_root, "backup.pub"),
        });

        Assert.Contains("Backup:Directory must be an absolute path", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "OPR-21")]
    public void A_directory_reached_through_a_link_into_the_data_directory_is_refused()
    {
        Directory.CreateDirectory(Path.Join(_root, "data"));
        Directory.CreateSymbolicLink(Path.Join(_root, "to-data"), Path.Join(_root, "data"));

        var result = new BackupOptionsValidator(Path.Join(_root, "data")).Validate(null, new BackupOptions
        {
            Interval = TimeSpan.FromHours(1),
            Directory = Path.Join(_root, "to-data", "backups"),
            RecipientPublicKeyPath = Path.Join(_root, "backup.pub"),
        });

        Assert.Contains("Backup:Directory must be outside the data directory", result.FailureMessage, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
