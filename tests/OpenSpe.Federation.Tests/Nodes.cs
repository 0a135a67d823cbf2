using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Tests;

/// <summary>Nodes in this process for tests: the three CNSIM sites, or nodes over CSV text written to temporary directories.</summary>
public sealed class Nodes : IDisposable
{
    private readonly List<string> _directories = [];

    /// <summary>The directory of the test data shipped with this project.</summary>
    public static string TestData(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "TestData", .. parts]);

    /// <summary>The three CNSIM sites as DataSHIELD's test splits them (node1 = CNSIM1, …).</summary>
    public static IReadOnlyList<IFederatedNode> Cnsim(NodePolicy? policy = null) =>
        [.. Enumerable.Range(1, 3).Select(i => new LocalFederatedNode($"node{i}", TestData("cnsim", $"node{i}"), policy ?? NodePolicy.Default, FederatedAnalyses.BuiltIn()))];

    /// <summary>A node whose dataset is one file <c>data.csv</c> holding <paramref name="csv"/>.</summary>
    public IFederatedNode FromCsv(string name, string csv, NodePolicy? policy = null)
    {
        var directory = Directory(("data.csv", csv));
        return new LocalFederatedNode(name, directory, policy ?? NodePolicy.Default, FederatedAnalyses.BuiltIn());
    }

    /// <summary>A temporary directory holding <paramref name="files"/>.</summary>
    public string Directory(params (string Name, string Content)[] files)
    {
        var directory = Path.Combine(Path.GetTempPath(), "spe-fed-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        _directories.Add(directory);
        foreach (var (name, content) in files)
        {
            File.WriteAllText(Path.Combine(directory, name), content);
        }

        return directory;
    }

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
    }
}
