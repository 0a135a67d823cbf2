using System.Text.RegularExpressions;

namespace OpenSpe.Server.Tests.Docs;

/// <summary>
/// The test classes, their methods and their requirement traits, read from the test sources (not from loaded
/// assemblies, so the tests of every test project count, not only this one's).
/// </summary>
/// <remarks>
/// A reference in docs/requirements.md is <c>[path/]Class[.Method]</c>, where <c>…</c> or <c>*</c> stand for any text,
/// a trailing <c>(…)</c> names a case, a reference starting with <c>…</c> is a method of the previous class, and
/// <c>path/*</c> is every test under a folder.
/// </remarks>
internal sealed partial class TestSources
{
    private readonly Dictionary<string, List<string>> _filesOfClass = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _baseOfClass = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _methodsOfFile = new(StringComparer.Ordinal);
    private readonly List<string> _relativePaths = [];

    private TestSources()
    {
    }

    /// <summary>Every <c>[Trait("Requirement", ID)]</c> in the test sources.</summary>
    public List<(string Id, string File)> RequirementTraits { get; } = [];

    public static TestSources Read(string testsDirectory)
    {
        var sources = new TestSources();
        var root = Path.GetDirectoryName(testsDirectory)!;
        foreach (var file in Directory.EnumerateFiles(testsDirectory, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.Contains("/bin/", StringComparison.Ordinal) || relative.Contains("/obj/", StringComparison.Ordinal))
            {
                continue;
            }

            var text = File.ReadAllText(file);
            sources._relativePaths.Add(relative);
            sources._methodsOfFile[relative] = MethodPattern().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            foreach (Match declaration in ClassPattern().Matches(text))
            {
                var name = declaration.Groups["name"].Value;
                if (!sources._filesOfClass.TryGetValue(name, out var files))
                {
                    sources._filesOfClass[name] = files = [];
                }

                files.Add(relative);
                if (declaration.Groups["base"].Success)
                {
                    sources._baseOfClass[name] = declaration.Groups["base"].Value;
                }
            }

            sources.RequirementTraits.AddRange(TraitPattern().Matches(text).Select(m => (m.Groups[1].Value, relative)));
        }

        return sources;
    }

    /// <summary>Null when <paramref name="reference"/> names existing tests, else what is wrong.</summary>
    public string? Resolve(string reference, ref string? previousClass)
    {
        var text = CasePattern().Replace(reference, "").Replace('…', '*').Trim();
        var slash = text.LastIndexOf('/');
        var folder = slash < 0 ? null : text[..slash];
        var name = text[(slash + 1)..];
        if (name == "*")
        {
            return _relativePaths.Any(p => p.Contains(folder + "/", StringComparison.Ordinal)) ? null : "names a folder with no test sources";
        }

        if (name.StartsWith('*') && !name.Contains('.', StringComparison.Ordinal) && previousClass is not null && !Classes(name, folder).Any())
        {
            return Methods(previousClass).Any(m => Glob(name).IsMatch(m)) ? null : $"names no method of {previousClass}";
        }

        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var classPart = dot < 0 ? name : name[..dot];
        var classes = Classes(classPart, folder).ToList();
        if (classes.Count == 0)
        {
            return "names no test class";
        }

        previousClass = classes[0];
        if (dot < 0)
        {
            return null;
        }

        var method = Glob(name[(dot + 1)..]);
        return classes.Any(c => Methods(c).Any(method.IsMatch)) ? null : $"names no method of {string.Join(" or ", classes)}";
    }

    private IEnumerable<string> Classes(string pattern, string? folder)
    {
        var glob = Glob(pattern);
        return _filesOfClass
            .Where(c => glob.IsMatch(c.Key) && (folder is null || c.Value.Any(f => f.Contains(folder + "/", StringComparison.Ordinal))))
            .Select(c => c.Key);
    }

    private IEnumerable<string> Methods(string className)
    {
        // Behaviour suites are abstract classes whose tests run in each backend's subclass: a subclass has its base's tests.
        for (var name = className; name is not null; name = _baseOfClass.GetValueOrDefault(name))
        {
            foreach (var file in _filesOfClass.GetValueOrDefault(name) ?? [])
            {
                foreach (var method in _methodsOfFile[file])
                {
                    yield return method;
                }
            }

            if (!_filesOfClass.ContainsKey(name))
            {
                yield break;
            }
        }
    }

    private static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);

    [GeneratedRegex(@"\bclass\s+(?<name>\w+)(?:<[^>]*>)?(?:\([^)]*\))?(?:\s*:\s*(?<base>\w+))?")]
    private static partial Regex ClassPattern();

    [GeneratedRegex(@"\b(?:Task|ValueTask|void)\s+(\w+)\s*\(")]
    private static partial Regex MethodPattern();

    [GeneratedRegex("\\[Trait\\(\"Requirement\",\\s*\"([^\"]+)\"\\)\\]")]
    private static partial Regex TraitPattern();

    [GeneratedRegex(@"\s*\([^)]*\)\s*$")]
    private static partial Regex CasePattern();
}
