namespace OpenSpe.Federation.Glm;

/// <summary>
/// Parses the subset of R's model formulas a federated GLM accepts: <c>y ~ a + b</c>, <c>a*b</c> (= <c>a + b + a:b</c>),
/// <c>a:b</c>, parentheses, <c>factor(x)</c>, <c>- term</c>, and the intercept (<c>1</c>, <c>- 1</c>, <c>+ 0</c>).
/// Anything else (functions, <c>^</c>, <c>.</c>, <c>%in%</c>) is refused with a <see cref="FormatException"/> that says what.
/// </summary>
internal sealed class FormulaParser
{
    private const int MaxVariables = 63;

    /// <summary>The most terms a formula may expand to. Note: bounded because <c>a*b*c*…</c> doubles with each variable and
    /// a node must not be made to spend unbounded time or memory on a request.</summary>
    internal const int MaxTerms = 256;

    /// <summary>The most parentheses a formula may nest. Note: bounded because the parser recurses once per level and a
    /// formula of tens of thousands of '(' overflowed the stack, which .NET cannot catch: it killed the coordinating server
    /// and aborted the runner at each node; 32 levels is far beyond any model a person writes.</summary>
    internal const int MaxDepth = 32;

    /// <summary>The longest formula accepted, in characters. Note: bounded so that the work a request costs the coordinator
    /// and every node stays small whatever is sent; 63 variables of long names with their interactions fit well within it.</summary>
    internal const int MaxLength = 16_384;
    private readonly string _text;
    private readonly List<FormulaVariable> _variables = [];
    private int _position;
    private int _depth;

    private FormulaParser(string text) => _text = text;

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">The formula is not one this parser accepts; the message says why.</exception>
    public static Formula Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxLength)
        {
            throw new FormatException($"The formula is longer than {MaxLength} characters: shorten it (for many terms, a*b expands to a + b + a:b).");
        }

        return new FormulaParser(text).ParseFormula();
    }

    private Formula ParseFormula()
    {
        var response = ParseAtom();
        if (response.Terms.Count != 1 || response.Terms[0] != 1UL || _variables[0].IsFactor)
        {
            throw new FormatException("The response (left of '~') must be one column name.");
        }

        Expect('~');
        var terms = new List<ulong>();
        var intercept = true;
        var negative = false;
        if (PeekSymbol() == '-')
        {
            _position++;
            negative = true;
        }

        while (true)
        {
            var operand = ParseProduct();
            Apply(operand, negative, terms, ref intercept);
            var next = PeekSymbol();
            if (next == '\0')
            {
                break;
            }

            if (next is not ('+' or '-'))
            {
                throw Error($"unexpected '{next}'");
            }

            _position++;
            negative = next == '-';
        }

        if (terms.Any(t => (t & 1UL) != 0))
        {
            throw new FormatException("The response cannot also be a term of the model.");
        }

        // Note: refused here because a model without an intercept or a term has no coefficient to estimate; left to the
        // nodes, each one answered a zero-length result that was refused as a misbehaving component (SPE7057).
        if (!intercept && terms.Count == 0)
        {
            throw new FormatException("The model has no coefficients: keep the intercept or add a term.");
        }

        // Note: R lists main effects first, then two-way interactions and so on, each group in order of appearance;
        // the coefficient names and their order must match R's so results can be compared with glm() one for one.
        var ordered = terms.Where(t => t != 0UL)
            .Select((mask, i) => (mask, i))
            .OrderBy(t => System.Numerics.BitOperations.PopCount(t.mask))
            .ThenBy(t => t.i)
            .Select(t => new FormulaTerm(Indexes(t.mask)))
            .ToArray();
        return new Formula(_text, _variables, ordered, intercept);
    }

    private static void Apply(Operand operand, bool negative, List<ulong> terms, ref bool intercept)
    {
        if (operand.IsZero)
        {
            intercept = negative;
            return;
        }

        foreach (var term in operand.Terms)
        {
            if (term == 0UL)
            {
                intercept = !negative;
            }
            else if (negative)
            {
                terms.Remove(term);
            }
            else if (!terms.Contains(term))
            {
                terms.Add(term);
            }
        }
    }

    private Operand ParseProduct()
    {
        var left = ParseInteraction();
        while (PeekSymbol() == '*')
        {
            _position++;
            var right = ParseInteraction();
            // a*b is a + b + a:b.
            left = new Operand(Union(Union(left.Terms, right.Terms), Cross(left, right).Terms));
            if (left.Terms.Count > MaxTerms)
            {
                throw new FormatException($"The formula expands to more than {MaxTerms} terms.");
            }
        }

        return left;
    }

    private Operand ParseInteraction()
    {
        var left = ParseAtom();
        while (PeekSymbol() == ':')
        {
            _position++;
            left = Cross(left, ParseAtom());
        }

        return left;
    }

    private static Operand Cross(Operand left, Operand right)
    {
        if (left.IsZero || right.IsZero || left.Terms.Contains(0UL) || right.Terms.Contains(0UL))
        {
            throw new FormatException("The intercept (0 or 1) cannot be part of an interaction.");
        }

        var result = new List<ulong>();
        foreach (var a in left.Terms)
        {
            foreach (var b in right.Terms)
            {
                if (!result.Contains(a | b))
                {
                    result.Add(a | b);
                    if (result.Count > MaxTerms)
                    {
                        throw new FormatException($"The formula expands to more than {MaxTerms} terms.");
                    }
                }
            }
        }

        return new Operand(result);
    }

    private static List<ulong> Union(IReadOnlyList<ulong> a, IReadOnlyList<ulong> b)
    {
        var result = new List<ulong>(a);
        result.AddRange(b.Where(t => !result.Contains(t)));
        return result;
    }

    private Operand ParseAtom()
    {
        SkipSpace();
        if (_position >= _text.Length)
        {
            throw Error("a term is missing");
        }

        var c = _text[_position];
        if (c == '(')
        {
            if (++_depth > MaxDepth)
            {
                throw Error($"parentheses nest more than {MaxDepth} deep: remove the ones that group nothing");
            }

            _position++;
            var inner = new List<ulong>();
            var intercept = true;
            var negative = false;
            while (true)
            {
                var operand = ParseProduct();
                if (operand.IsZero || operand.Terms.Contains(0UL))
                {
                    throw Error("the intercept cannot be inside parentheses");
                }

                Apply(operand, negative, inner, ref intercept);
                var next = PeekSymbol();
                if (next == ')')
                {
                    _position++;
                    _depth--;
                    return new Operand(inner);
                }

                if (next is not ('+' or '-'))
                {
                    throw Error("')' is missing");
                }

                _position++;
                negative = next == '-';
            }
        }

        if (char.IsAsciiDigit(c))
        {
            var start = _position;
            while (_position < _text.Length && (char.IsAsciiDigit(_text[_position]) || _text[_position] == '.'))
            {
                _position++;
            }

            return _text[start.._position] switch
            {
                "0" => Operand.Zero,
                "1" => new Operand([0UL]),
                var n => throw Error($"the number {n} is not a term (only 0 and 1, for the intercept)"),
            };
        }

        var name = ReadName();
        if (PeekSymbol() == '(')
        {
            if (name != "factor")
            {
                throw Error($"the function {name}() is not supported (only factor())");
            }

            _position++;
            SkipSpace();
            var column = ReadName();
            Expect(')');
            return new Operand([1UL << Variable(new FormulaVariable(column, IsFactor: true))]);
        }

        return new Operand([1UL << Variable(new FormulaVariable(name, IsFactor: false))]);
    }

    private int Variable(FormulaVariable variable)
    {
        var index = _variables.IndexOf(variable);
        if (index >= 0)
        {
            return index;
        }

        if (_variables.Count == MaxVariables)
        {
            throw new FormatException($"A formula may use at most {MaxVariables} variables.");
        }

        _variables.Add(variable);
        return _variables.Count - 1;
    }

    private string ReadName()
    {
        SkipSpace();
        if (_position < _text.Length && _text[_position] == '`')
        {
            var end = _text.IndexOf('`', _position + 1);
            if (end < 0 || end == _position + 1)
            {
                throw Error("a `quoted` name is not closed");
            }

            var quoted = _text[(_position + 1)..end];
            _position = end + 1;
            return quoted;
        }

        var start = _position;
        while (_position < _text.Length && (char.IsAsciiLetterOrDigit(_text[_position]) || _text[_position] is '_' or '.'))
        {
            _position++;
        }

        if (_position == start)
        {
            throw Error(_position < _text.Length ? $"unexpected '{_text[_position]}'" : "a name is missing");
        }

        var name = _text[start.._position];
        if (name == ".")
        {
            throw Error("'.' (all other columns) is not supported: name the terms");
        }

        return name;
    }

    private void Expect(char symbol)
    {
        if (PeekSymbol() != symbol)
        {
            throw Error($"'{symbol}' is expected");
        }

        _position++;
    }

    private char PeekSymbol()
    {
        SkipSpace();
        return _position < _text.Length ? _text[_position] : '\0';
    }

    private void SkipSpace()
    {
        while (_position < _text.Length && char.IsWhiteSpace(_text[_position]))
        {
            _position++;
        }
    }

    private FormatException Error(string what) => new($"Formula error at position {_position + 1}: {what}.");

    private static int[] Indexes(ulong mask)
    {
        var result = new List<int>();
        for (var i = 0; i < 64; i++)
        {
            if ((mask & (1UL << i)) != 0)
            {
                result.Add(i);
            }
        }

        return [.. result];
    }

    private sealed record Operand(IReadOnlyList<ulong> Terms)
    {
        public static Operand Zero { get; } = new([]) { IsZero = true };

        public bool IsZero { get; private init; }
    }
}
