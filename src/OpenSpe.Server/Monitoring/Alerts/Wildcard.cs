namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// A rule's name pattern (an audit action, a route): <c>*</c> stands for any run of characters, none included; every other
/// character stands for itself, compared ordinally.
/// </summary>
/// <remarks>
/// Note: not a regular expression with a match timeout, as before: the timeout is wall-clock time, so on a loaded machine a
/// thread descheduled mid-match threw <see cref="System.Text.RegularExpressions.RegexMatchTimeoutException"/> on a
/// two-star pattern, and a request whose record had already been written answered 500. This loop needs no timeout: it
/// goes back only to the last star, so it does at most (pattern length × text length) steps.
/// </remarks>
internal sealed class Wildcard(string pattern)
{
    /// <summary>The pattern as written.</summary>
    public string Pattern { get; } = pattern ?? throw new ArgumentNullException(nameof(pattern));

    /// <summary>Whether <paramref name="text"/>, all of it, matches.</summary>
    public bool IsMatch(ReadOnlySpan<char> text)
    {
        var glob = Pattern.AsSpan();
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < glob.Length && glob[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (p < glob.Length && glob[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                // The last star takes one more character, and the rest of the pattern is tried from there.
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < glob.Length && glob[p] == '*')
        {
            p++;
        }

        return p == glob.Length;
    }
}
