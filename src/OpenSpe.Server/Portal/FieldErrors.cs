using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace OpenSpe.Server.Portal;

/// <summary>
/// A refused form's errors by field, as a page model holds them: each field's messages joined into one text (the
/// dictionary, which the field tags read, <see cref="FieldErrorsTagHelper"/>), and still one by one
/// (<see cref="MessagesOf"/>). Keys are compared as written: <see cref="ApiProblem.ByField"/> makes the API's field names
/// lower case, a page's own errors keep the names it gives them.
/// </summary>
internal sealed class FieldErrors : IReadOnlyDictionary<string, string>
{
    private readonly Dictionary<string, IReadOnlyList<string>> _messages;
    private readonly Dictionary<string, string> _joined;

    /// <summary>Errors by field, the keys as given.</summary>
    public FieldErrors(IEnumerable<KeyValuePair<string, IReadOnlyList<string>>> messages)
    {
        _messages = new Dictionary<string, IReadOnlyList<string>>(messages, StringComparer.Ordinal);
        _joined = _messages.ToDictionary(e => e.Key, e => string.Join(" ", e.Value), StringComparer.Ordinal);
    }

    /// <summary>No errors: a form not refused, or another form of the page refused.</summary>
    public static FieldErrors None { get; } = new([]);

    /// <summary>The one error of <paramref name="field"/>.</summary>
    public static FieldErrors For(string field, string message) => new([KeyValuePair.Create(field, (IReadOnlyList<string>)[message])]);

    /// <inheritdoc/>
    public int Count => _joined.Count;

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _joined.Keys;

    /// <inheritdoc/>
    public IEnumerable<string> Values => _joined.Values;

    /// <inheritdoc/>
    public string this[string key] => _joined[key];

    /// <summary>The messages of <paramref name="field"/> one by one (none if it has no error).</summary>
    public IReadOnlyList<string> MessagesOf(string field) => _messages.TryGetValue(field, out var messages) ? messages : [];

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _joined.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) => _joined.TryGetValue(key, out value);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _joined.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
