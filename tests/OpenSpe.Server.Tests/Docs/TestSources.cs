using System.Text.RegularExpressions;

namespace OpenSpe.Server.Tests.Docs;

/// <summary>
/// The test classes, their test methods and the requirement traits of every test project, read from the sources (not
/// from loaded assemblies, so the tests of every test project count, not only this one's).
/// </summary>
/// <remarks>
/// A reference in docs/requirements.md is <c>[folder/]Class[.Method]</c>. <c>…</c> stands for any text; a reference
/// starting with <c>…</c> (and naming no folder or class) is a test method of the class named before it in the same
/// cell; <c>folder/…</c> is every test under a folder; a trailing <c>(…)</c> names a case of a theory, whose text must
/// appear in the class's source. A folder is the trailing part of the path of the file declaring the class, and its
/// first segment may leave out the <c>OpenSpe.</c> prefix of a project (<c>Crypt4gh.Tests/VectorTests</c>).
/// Note: the sources are read line by line, relying on the layout <c>dotnet format</c> enforces (a type's closing
/// brace on a line of its own at the indentation of its declaration), because a test that names a method of the wrong
/// class must fail, so methods are attributed to the class whose braces enclose them, not to the file.
/// </remarks>
internal sealed partial class TestSources
{
    private readonly List<TestClass> _classes = [];

    private TestSources()
    {
    }

    /// <summary>Every <c>Trait("Requirement", ID)</c> in the test sources, with the file it is in.</summary>
    public List<(string Id, string File)> RequirementTraits { get; } = [];

    public static TestSources Read(string testsDirectory)
    {
        var sources = new TestSources();
        var root = Path.GetDirectoryName(Path.GetFullPath(testsDirectory).TrimEnd(Path.DirectorySeparatorChar))!;
        foreach (var file in Directory.EnumerateFiles(testsDirectory, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.Contains("/bin/", StringComparison.Ordinal) || relative.Contains("/obj/", StringComparison.Ordinal))
            {
                continue;
            }

            var text = File.ReadAllText(file);
            sources._classes.AddRange(ReadClasses(relative, text));
            sources.RequirementTraits.AddRange(TraitPattern().Matches(text).Select(m => (m.Groups[1].Value, relative)));
        }

        return sources;
    }

    /// <summary>Null when <paramref name="reference"/> names existing tests, else what is wrong with it.</summary>
    /// <param name="reference">The text between the backticks.</param>
    /// <param name="previous">The classes the previous reference of the same cell named; updated.</param>
    public string? Resolve(string reference, ref IReadOnlyList<TestClass>? previous)
    {
        var text = reference.Replace('…', '*').Trim();
        string? caseText = null;
        var @case = CasePattern().Match(text);
        if (@case.Success)
        {
            caseText = @case.Groups["case"].Value.Replace("*", "", StringComparison.Ordinal).Trim();
            text = text[..@case.Index].TrimEnd();
        }

        if (text.StartsWith('*') && !text.Contains('/', StringComparison.Ordinal) && !text.Contains('.', StringComparison.Ordinal))
        {
            return previous is null ? "starts with … but no class is named before it in the cell" : ResolveMethod(previous, text, caseText);
        }

        var slash = text.LastIndexOf('/');
        var folder = slash < 0 ? null : text[..slash].Split('/');
        var name = text[(slash + 1)..];
        if (folder is not null && name == "*")
        {
            return _classes.Any(c => c.Tests.Count > 0 && ContainsRun(c.Directory, folder)) ? null : "names a folder with no tests";
        }

        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var classPattern = dot < 0 ? name : name[..dot];
        if (!HasLiteral(classPattern))
        {
            return "names no class, only a wildcard";
        }

        var glob = Glob(classPattern);
        var classes = _classes.Where(c => glob.IsMatch(c.Name) && (folder is null || EndsWith(c.Directory, folder)) && AllTests(c).Any()).ToList();
        if (classes.Count == 0)
        {
            return folder is null ? "names no test class" : $"names no test class in a folder {string.Join('/', folder)}";
        }

        previous = classes;
        if (dot < 0)
        {
            return caseText is null || classes.Any(c => c.Text.Contains(caseText, StringComparison.Ordinal)) ? null : $"names a case '{caseText}' that its class does not have";
        }

        return ResolveMethod(classes, name[(dot + 1)..], caseText);
    }

    private string? ResolveMethod(IReadOnlyList<TestClass> classes, string pattern, string? caseText)
    {
        if (!HasLiteral(pattern))
        {
            return "names no method, only a wildcard";
        }

        var glob = Glob(pattern);
        var owners = classes.Where(c => AllTests(c).Any(glob.IsMatch)).ToList();
        if (owners.Count == 0)
        {
            return $"names no test method of {string.Join(" or ", classes.Select(c => c.Name).Distinct())}";
        }

        return caseText is null || owners.Any(c => DeclaringTexts(c).Any(t => t.Contains(caseText, StringComparison.Ordinal)))
            ? null
            : $"names a case '{caseText}' that the test does not have";
    }

    /// <summary>A class's own tests and those it inherits (behaviour suites are abstract; each backend's subclass runs them).</summary>
    private IEnumerable<string> AllTests(TestClass start) => Lineage(start).SelectMany(c => c.Tests);

    private IEnumerable<string> DeclaringTexts(TestClass start) => Lineage(start).Select(c => c.Text);

    private IEnumerable<TestClass> Lineage(TestClass start)
    {
        var seen = new HashSet<TestClass>();
        for (var current = start; current is not null && seen.Add(current); current = BaseOf(current))
        {
            yield return current;
        }
    }

    // Two test projects may each have a class of one name (Core.Tests and Server.Tests both test a PermitLifecycle):
    // the base is looked for in the class's own file first, then its folder, then anywhere.
    private TestClass? BaseOf(TestClass derived) => derived.Base is not { } name ? null
        : _classes.Where(c => c.Name == name).OrderBy(c => c.File == derived.File ? 0 : c.Directory == derived.Directory ? 1 : 2).FirstOrDefault();

    private static List<TestClass> ReadClasses(string file, string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var spans = new List<(string Name, string? Base, int Start, int End)>();
        for (var i = 0; i < lines.Length; i++)
        {
            var declaration = ClassPattern().Match(lines[i]);
            if (!declaration.Success)
            {
                continue;
            }

            // The declaration runs to the line that opens its body (its own indentation and "{"), or ends with ";".
            var indent = declaration.Groups["indent"].Value;
            var header = new List<string>();
            var open = i;
            while (open < lines.Length && lines[open] != indent + "{" && !lines[open].TrimEnd().EndsWith(';') && !lines[open].TrimEnd().EndsWith('{') && !lines[open].TrimEnd().EndsWith('}'))
            {
                header.Add(lines[open]);
                open++;
            }

            if (open == lines.Length)
            {
                throw new InvalidOperationException($"{file}:{i + 1}: the body of class {declaration.Groups["name"].Value} does not start where dotnet format puts it");
            }

            header.Add(lines[open]);
            var close = open;
            var oneLine = lines[open].TrimEnd().EndsWith(';') || (lines[open].Contains('{', StringComparison.Ordinal) && lines[open].TrimEnd().EndsWith('}'));
            if (!oneLine)
            {
                close = Array.FindIndex(lines, open + 1, l => l == indent + "}");
                if (close < 0)
                {
                    throw new InvalidOperationException($"{file}:{i + 1}: the body of class {declaration.Groups["name"].Value} does not end where dotnet format puts it");
                }
            }

            spans.Add((declaration.Groups["name"].Value, BaseOf(string.Join(' ', header)), i, close));
        }

        var tests = spans.Select(_ => new List<string>()).ToList();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!TestAttributePattern().IsMatch(lines[i]))
            {
                continue;
            }

            var method = -1;
            for (var j = i; j < lines.Length && method < 0; j++)
            {
                method = MethodPattern().IsMatch(lines[j]) ? j : -1;
            }

            if (method < 0)
            {
                throw new InvalidOperationException($"{file}:{i + 1}: a test attribute with no method after it");
            }

            // The innermost class around the method is the last declared one whose body encloses it.
            var owner = spans.FindLastIndex(s => s.Start < method && method < s.End);
            if (owner < 0)
            {
                throw new InvalidOperationException($"{file}:{method + 1}: a test method outside any class");
            }

            tests[owner].Add(MethodPattern().Match(lines[method]).Groups[1].Value);
            i = method;
        }

        return [.. spans.Select((s, k) => new TestClass(s.Name, file, file[..file.LastIndexOf('/')], s.Base, tests[k], string.Join('\n', lines[s.Start..(s.End + 1)])))];
    }

    private static string? BaseOf(string header)
    {
        // Skip the primary constructor's parameters, which may contain parentheses of their own; the first type after
        // ':' is the base class (or an interface, which names no test class and so adds nothing).
        var at = header.IndexOf("class ", StringComparison.Ordinal);
        var depth = 0;
        for (var i = at; i < header.Length; i++)
        {
            switch (header[i])
            {
                case '(' or '<':
                    depth++;
                    break;
                case ')' or '>':
                    depth--;
                    break;
                case ':' when depth == 0:
                    var name = BaseNamePattern().Match(header, i + 1);
                    return name.Success ? name.Groups[1].Value : null;
                case '{' or ';' when depth == 0:
                    return null;
                default:
                    break;
            }
        }

        return null;
    }

    private static bool EndsWith(string directory, string[] folder)
    {
        var segments = directory.Split('/');
        return segments.Length >= folder.Length && Matches(segments[^folder.Length..], folder);
    }

    private static bool ContainsRun(string directory, string[] folder)
    {
        var segments = directory.Split('/');
        return Enumerable.Range(0, Math.Max(0, segments.Length - folder.Length + 1)).Any(i => Matches(segments[i..(i + folder.Length)], folder));
    }

    private static bool Matches(string[] segments, string[] folder) =>
        segments.Zip(folder).Select((p, i) => p.First == p.Second || (i == 0 && p.First == "OpenSpe." + p.Second)).All(m => m);

    private static bool HasLiteral(string pattern) => pattern.Any(char.IsLetterOrDigit);

    private static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);

    [GeneratedRegex(@"^(?<indent>\s*)(?:(?:public|internal|private|protected|sealed|abstract|static|partial|file)\s+)*class\s+(?<name>\w+)")]
    private static partial Regex ClassPattern();

    [GeneratedRegex(@"^\s*\[(?:[^\]""]*[\s,])?(?:Fact|Theory)\b")]
    private static partial Regex TestAttributePattern();

    [GeneratedRegex(@"^\s*(?:(?:public|internal|private|protected|static|async|virtual|override)\s+)*(?:Task|ValueTask|void)\s+(\w+)\s*\(")]
    private static partial Regex MethodPattern();

    [GeneratedRegex(@"\G\s*(?:[\w.]+\.)?(\w+)")]
    private static partial Regex BaseNamePattern();

    [GeneratedRegex(@"Trait\(\s*""Requirement""\s*,\s*""([^""]+)""\s*\)")]
    private static partial Regex TraitPattern();

    [GeneratedRegex(@"\s*\((?<case>[^)]*)\)$")]
    private static partial Regex CasePattern();

    /// <summary>A class declared in the test sources and the test methods declared in its body.</summary>
    internal sealed record TestClass(string Name, string File, string Directory, string? Base, List<string> Tests, string Text);
}
