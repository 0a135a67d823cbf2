using Microsoft.Extensions.Options;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Operations.Training;

namespace OpenSpe.Server.UnitTests.Operations;

/// <summary>
/// Training gates access by default outside dev mode (OPR-23): an SPE in production must not let untrained people in because
/// <c>Training:Required</c> was left unset; dev mode's seeded accounts have no records, so there it is off unless set.
/// </summary>
public sealed class TrainingRequiredDefaultTests
{
    [Theory]
    [Trait("Requirement", "OPR-23")]
    [InlineData(null, false, true)]
    [InlineData(null, true, false)]
    [InlineData(false, false, false)]
    [InlineData(true, true, true)]
    public void Unset_it_is_on_outside_dev_mode_and_off_in_it_and_a_setting_wins(bool? required, bool dev, bool expected)
    {
        // Note: the database is not touched by Required.
        var records = new TrainingRecords(null!, Options.Create(new TrainingOptions { Required = required }), Options.Create(new ServerOptions { Dev = dev }));

        Assert.Equal(expected, records.Required);
    }
}
