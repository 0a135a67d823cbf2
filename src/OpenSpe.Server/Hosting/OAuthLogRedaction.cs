using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server;

namespace OpenSpe.Server.Hosting;

/// <summary>
/// The logger OpenIddict's server writes through: every OAuth request or response it logs is
/// reduced to parameters known to hold no secret before any provider sees it.
/// </summary>
/// <remarks>
/// Note: an allow-list, not OpenIddict's own deny-list, because OpenIddict logged the password
/// grant's one-time code (<c>otp</c>) and <c>recovery_code</c> in clear: a parameter added later must
/// not reach the log by default. This holds whatever log level the operator configures.
/// </remarks>
internal sealed partial class OAuthLogRedaction(ILoggerFactory factory) : ILogger<OpenIddictServerDispatcher>
{
    private const string Redacted = "[redacted]";

    private static readonly HashSet<string> Loggable = new(StringComparer.Ordinal)
    {
        OpenIddictConstants.Parameters.GrantType,
        OpenIddictConstants.Parameters.ClientId,
        OpenIddictConstants.Parameters.Username,
        OpenIddictConstants.Parameters.Scope,
        OpenIddictConstants.Parameters.ResponseType,
        OpenIddictConstants.Parameters.ResponseMode,
        OpenIddictConstants.Parameters.RedirectUri,
        OpenIddictConstants.Parameters.PostLogoutRedirectUri,
        OpenIddictConstants.Parameters.CodeChallengeMethod,
        OpenIddictConstants.Parameters.Prompt,
        OpenIddictConstants.Parameters.Audience,
        OpenIddictConstants.Parameters.Resource,
        OpenIddictConstants.Parameters.TokenTypeHint,
        OpenIddictConstants.Parameters.TokenType,
        OpenIddictConstants.Parameters.ExpiresIn,
        OpenIddictConstants.Parameters.Interval,
        OpenIddictConstants.Parameters.VerificationUri,
        OpenIddictConstants.Parameters.Error,
        OpenIddictConstants.Parameters.ErrorDescription,
        OpenIddictConstants.Parameters.ErrorUri,
    };

    private readonly ILogger _inner = factory.CreateLogger<OpenIddictServerDispatcher>();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => _inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => _inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!_inner.IsEnabled(logLevel))
        {
            return;
        }

        if (state is IReadOnlyList<KeyValuePair<string, object?>> values && values.Any(v => v.Value is OpenIddictMessage))
        {
            _inner.Log(logLevel, eventId, new RedactedState(values), exception, static (s, _) => s.ToString());
            return;
        }

        _inner.Log(logLevel, eventId, state, exception, formatter);
    }

    /// <summary>A copy of <paramref name="message"/> with every parameter outside the allow-list replaced by "[redacted]".</summary>
    internal static OpenIddictMessage Redact(OpenIddictMessage message)
    {
        var copy = new OpenIddictMessage();
        foreach (var (name, value) in message.GetParameters())
        {
            copy.SetParameter(name, Loggable.Contains(name) ? value : new OpenIddictParameter(Redacted));
        }

        return copy;
    }

    [GeneratedRegex(@"\{([^{}:,]+)[^{}]*\}")]
    private static partial Regex Hole();

    /// <summary>The structured values of a log entry with each OAuth message redacted, formatted from the original template.</summary>
    private sealed class RedactedState : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?>[] _values;
        private readonly string _text;

        public RedactedState(IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            _values = [.. values.Select(v => v.Value is OpenIddictMessage message ? new KeyValuePair<string, object?>(v.Key, Redact(message)) : v)];
            var template = _values.FirstOrDefault(v => v.Key == "{OriginalFormat}").Value as string ?? "";
            _text = Hole().Replace(template, hole =>
            {
                var name = hole.Groups[1].Value;
                var found = _values.FirstOrDefault(v => v.Key == name);
                return found.Key is null ? hole.Value : Convert.ToString(found.Value, CultureInfo.InvariantCulture) ?? "";
            });
        }

        public int Count => _values.Length;

        public KeyValuePair<string, object?> this[int index] => _values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_values).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => _text;
    }
}
