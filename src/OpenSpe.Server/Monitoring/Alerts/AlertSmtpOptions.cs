using System.ComponentModel.DataAnnotations;
using System.Net;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>E-mail for fired alerts (section <c>Alerts:Smtp</c>); off while <see cref="Host"/> is empty.</summary>
internal sealed class AlertSmtpOptions
{
    /// <summary>The SMTP server's host name or address; no e-mail when empty.</summary>
    public string? Host { get; set; }

    /// <summary>Its port (587, submission with STARTTLS, by default).</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    /// <summary>The sender address.</summary>
    public string? From { get; set; }

    /// <summary>The recipients.</summary>
    public List<string> To { get; set; } = [];

    /// <summary>The account to authenticate as, when the server asks for one.</summary>
    public string? Username { get; set; }

    /// <summary>Its password: read from configuration, never logged nor put in a message.</summary>
    public string? Password { get; set; }

    /// <summary>How long one delivery may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>True when <see cref="Host"/> is this machine: the only case where the connection may stay unencrypted.</summary>
    public bool IsLoopback => Host is { } host && (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip)));

    /// <summary>Checks the settings; each problem names its key.</summary>
    public IEnumerable<ValidationResult> Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            yield break;
        }

        if (!MimeKit.MailboxAddress.TryParse(From ?? "", out _))
        {
            yield return new ValidationResult("Alerts:Smtp:From must be an e-mail address when Alerts:Smtp:Host is set.");
        }

        if (To.Count == 0 || To.Any(t => !MimeKit.MailboxAddress.TryParse(t, out _)))
        {
            yield return new ValidationResult("Alerts:Smtp:To must list at least one e-mail address, each valid, when Alerts:Smtp:Host is set.");
        }

        if (string.IsNullOrEmpty(Username) != string.IsNullOrEmpty(Password))
        {
            yield return new ValidationResult("Alerts:Smtp:Username and Alerts:Smtp:Password go together.");
        }

        if (Timeout < TimeSpan.FromSeconds(1) || Timeout > TimeSpan.FromMinutes(5))
        {
            yield return new ValidationResult("Alerts:Smtp:Timeout must be between 1 second and 5 minutes.");
        }
    }
}
