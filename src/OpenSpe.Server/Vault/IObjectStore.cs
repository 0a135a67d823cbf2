using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace OpenSpe.Server.Vault;

/// <summary>
/// An S3-shaped store of immutable objects named by keys: whole-object puts that are atomic (an
/// object is visible complete or not at all), streaming reads, deletes and prefix listings.
/// There is deliberately no rename: S3 has none.
/// </summary>
internal interface IObjectStore
{
    /// <summary>
    /// Streams <paramref name="content"/> into the object <paramref name="key"/>, replacing any
    /// object of that name once the whole stream is stored. If the stream fails or the call is
    /// cancelled, nothing is visible and the previous object (if any) is unchanged.
    /// </summary>
    /// <returns>The stored size and SHA-256.</returns>
    Task<StoredObject> PutAsync(string key, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Opens the object for reading.</summary>
    /// <exception cref="ObjectNotFoundException">No object has that key.</exception>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>True when an object has that key.</summary>
    Task<bool> ExistsAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Deletes the object; false when there was none.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>The objects whose keys start with <paramref name="prefix"/>, in ordinal key order.</summary>
    IAsyncEnumerable<ObjectEntry> ListAsync(string prefix, CancellationToken cancellationToken = default);
}

/// <summary>An object as stored by a put.</summary>
/// <param name="Key">Its key.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Sha256">SHA-256 of its content, lower-case hex.</param>
internal sealed record StoredObject(string Key, long Size, string Sha256);

/// <summary>An object in a listing.</summary>
/// <param name="Key">Its key.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="LastModified">When it was stored.</param>
internal sealed record ObjectEntry(string Key, long Size, DateTimeOffset LastModified);

/// <summary>No object has the key asked for.</summary>
internal sealed class ObjectNotFoundException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ObjectNotFoundException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ObjectNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ObjectNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Object keys: 1–251 characters of <c>a-z 0-9 . _ / -</c>, made of non-empty <c>/</c>-separated
/// segments that each start with a letter or digit (so no <c>..</c>, no hidden names, no leading
/// or trailing or double slash). Keys are safe as relative paths and as S3 keys.
/// </summary>
internal static partial class ObjectKeys
{
    /// <summary>The most characters in a key.</summary>
    public const int MaxLength = 251;

    /// <summary>True when <paramref name="key"/> is a well-formed object key.</summary>
    public static bool IsValid([NotNullWhen(true)] string? key) =>
        key is { Length: > 0 and <= MaxLength } && KeyPattern().IsMatch(key) && !key.Contains("..", StringComparison.Ordinal);

    /// <summary>True when <paramref name="prefix"/> may start a listing: empty, or a key's beginning (it may end in <c>/</c>).</summary>
    public static bool IsValidPrefix([NotNullWhen(true)] string? prefix) =>
        prefix is not null && (prefix.Length == 0 || (prefix.Length <= MaxLength && PrefixPattern().IsMatch(prefix) && !prefix.Contains("..", StringComparison.Ordinal)));

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="key"/> is well formed.</summary>
    public static void Validate([NotNull] string? key, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(key))] string? parameterName = null)
    {
        ArgumentNullException.ThrowIfNull(key, parameterName);
        if (!IsValid(key))
        {
            throw new ArgumentException("An object key is 1-251 characters of a-z, 0-9, '.', '_', '-' in '/'-separated segments that each start with a letter or digit.", parameterName);
        }
    }

    // Note: no match timeouts: a segment's characters and '/' are disjoint, so neither pattern backtracks, and keys are at
    // most MaxLength long; a wall-clock timeout can fire on a loaded machine when the matching thread is descheduled.
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*/?$", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixPattern();
}
