using OpenSpe.Disclosure.Descriptions;

namespace OpenSpe.Disclosure.Tests;

/// <summary>A temporary directory of output files, checked with a policy and a description.</summary>
public sealed class TestFiles : IDisposable
{
    public TestFiles() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "spe-disclosure-" + Guid.NewGuid().ToString("N"));

    public string Write(string name, string content)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllText(path, content);
        return path;
    }

    public string Write(string name, byte[] content)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Checks <paramref name="file"/> (already written) under <paramref name="descriptionJson"/> and <paramref name="policy"/>.</summary>
    public FileReport Check(string file, string descriptionJson, DisclosurePolicy? policy = null) =>
        new OutputChecker(policy ?? DisclosurePolicy.Default).CheckFile(Path.Combine(Root, file), OutputDescriptionParser.Parse(descriptionJson));

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
