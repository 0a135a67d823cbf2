using Microsoft.AspNetCore.Identity;

namespace OpenSpe.Server.Identity;

/// <summary>
/// Refuses passwords that appear in breach corpora by shape: the most common passwords, the
/// account name, keyboard and digit runs, and a single repeated character. Length (≥ 12) is
/// enforced by Identity's options.
/// </summary>
internal sealed class BreachedPatternPasswordValidator : IPasswordValidator<SpeUser>
{
    // The head of every public breach frequency list; a full corpus check needs the k-anonymity API, which this network cannot reach.
    private static readonly HashSet<string> Common = new(StringComparer.OrdinalIgnoreCase)
    {
        "password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssw0rd", "p@ssword",
        "123456789012", "1234567890", "qwertyuiop", "qwerty123456", "iloveyou", "letmein", "welcome", "welcome123",
        "administrator", "admin12345", "changeme", "changeme123", "trustno1", "football", "baseball", "sunshine",
        "princess", "dragon", "monkey", "master", "superman", "starwars", "whatever", "qazwsxedc", "1q2w3e4r5t6y",
        "zaq12wsxcde3", "abc123456789", "aaaaaaaaaaaa", "secret123456", "hospital1234", "researcher12", "summer2026!",
    };

    private static readonly string[] Runs = ["0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm"];

    public Task<IdentityResult> ValidateAsync(UserManager<SpeUser> manager, SpeUser user, string? password)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (password is null)
        {
            return Task.FromResult(IdentityResult.Failed(Error("The password is required.")));
        }

        var lower = password.ToLowerInvariant();
        if (Common.Contains(password) || Common.Contains(lower.TrimEnd('!', '.', '1')))
        {
            return Task.FromResult(IdentityResult.Failed(Error("This password is among the most common ones in breaches.")));
        }

        if (user.UserName is { Length: >= 3 } name && lower.Contains(name.ToLowerInvariant(), StringComparison.Ordinal))
        {
            return Task.FromResult(IdentityResult.Failed(Error("The password must not contain the account name.")));
        }

        if (lower.Distinct().Count() <= 3)
        {
            return Task.FromResult(IdentityResult.Failed(Error("The password repeats too few characters.")));
        }

        if (Runs.Any(run => ContainsRun(lower, run, 6)))
        {
            return Task.FromResult(IdentityResult.Failed(Error("The password contains a keyboard or alphabet run.")));
        }

        return Task.FromResult(IdentityResult.Success);
    }

    private static bool ContainsRun(string password, string run, int length)
    {
        for (var i = 0; i + length <= run.Length; i++)
        {
            var piece = run.AsSpan(i, length);
            if (password.AsSpan().IndexOf(piece) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private static IdentityError Error(string description) => new() { Code = "PasswordBreachedPattern", Description = description };
}
