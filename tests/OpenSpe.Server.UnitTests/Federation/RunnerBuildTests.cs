using System.Diagnostics;
using System.Reflection.PortableExecutable;
using OpenSpe.Server.Federation;

namespace OpenSpe.Server.UnitTests.Federation;

/// <summary>
/// The runner's own assemblies depend on their source only (src/FederationRunnerContent.props), so the identity a permit pins
/// (<see cref="FederatedComponentIdentity"/>, the digest of every runner file) survives a commit or a checkout elsewhere that does
/// not change the runner: no source commit in the informational version, no absolute build path in the assembly.
/// </summary>
public sealed class RunnerBuildTests
{
    private static readonly string Runner = Path.Combine(AppContext.BaseDirectory, "federation-runner");

    /// <summary>The assemblies built from this repository's projects, as the build copied them beside the tests.</summary>
    public static TheoryData<string> OwnAssemblies() => [.. Own()];

    private static IEnumerable<string> Own() =>
        Directory.EnumerateFiles(Runner, "OpenSpe.*.dll").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal);

    [Fact]
    [Trait("Requirement", "FCR-4")]
    public void The_runner_is_built_with_its_own_assemblies_and_its_manifest_is_embedded()
    {
        Assert.Equal(["OpenSpe.Contracts.dll", "OpenSpe.Disclosure.dll", "OpenSpe.Federation.Runner.dll", "OpenSpe.Federation.dll"], Own().Order(StringComparer.Ordinal));
        Assert.NotNull(FederatedComponentIdentity.Runner);
    }

    [Theory]
    [MemberData(nameof(OwnAssemblies))]
    [Trait("Requirement", "FCR-4")]
    public void A_runner_assembly_names_neither_the_source_commit_nor_the_build_directory(string file)
    {
        var path = Path.Combine(Runner, file);

        var informational = FileVersionInfo.GetVersionInfo(path).ProductVersion;
        Assert.False(string.IsNullOrEmpty(informational));
        Assert.DoesNotContain("+", informational, StringComparison.Ordinal);
        using var pe = new PEReader(File.OpenRead(path));
        var codeView = Assert.Single(pe.ReadDebugDirectory(), d => d.Type == DebugDirectoryEntryType.CodeView);
        Assert.StartsWith("/_/", pe.ReadCodeViewDebugDirectoryData(codeView).Path, StringComparison.Ordinal);
    }
}
