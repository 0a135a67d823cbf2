namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>The repository the tests run from, for tests that read its documents, build files and test data.</summary>
public static class RepositoryRoot
{
    /// <summary>The directory holding OpenSpe.slnx, found above the test assembly.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "OpenSpe.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("the repository root (OpenSpe.slnx) was not found above " + AppContext.BaseDirectory);
    }
}
