using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>
/// The server's own password hasher, with each answer remembered for the test run: the first hash of a password and the
/// first check of a (hash, password) pair are computed by the real hasher; repeats are answered from memory.
/// </summary>
/// <remarks>
/// Note: a real hash costs about 60 ms here, and every test server seeded nine dev accounts (half of its start) and every
/// real sign-in checked one; the test servers share one set of dev credentials (<see cref="TestDevAccounts"/>), so the
/// same passwords are hashed and checked hundreds of times per run. A wrong password is still a different pair, checked
/// for real.
/// </remarks>
internal sealed class MemoizingPasswordHasher(IPasswordHasher<SpeUser> inner) : IPasswordHasher<SpeUser>
{
    private static readonly ConcurrentDictionary<string, string> Hashes = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<(string Hash, string Password), PasswordVerificationResult> Checks = new();

    /// <summary>Wraps the hasher the server registered.</summary>
    public static void Install(IServiceCollection services)
    {
        var registered = services.Last(d => d.ServiceType == typeof(IPasswordHasher<SpeUser>));
        services.Replace(ServiceDescriptor.Describe(typeof(IPasswordHasher<SpeUser>),
            sp => new MemoizingPasswordHasher((IPasswordHasher<SpeUser>)ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!)),
            registered.Lifetime));
    }

    public string HashPassword(SpeUser user, string password) => Hashes.GetOrAdd(password, p => inner.HashPassword(user, p));

    public PasswordVerificationResult VerifyHashedPassword(SpeUser user, string hashedPassword, string providedPassword) =>
        Checks.GetOrAdd((hashedPassword, providedPassword), k => inner.VerifyHashedPassword(user, k.Hash, k.Password));
}
