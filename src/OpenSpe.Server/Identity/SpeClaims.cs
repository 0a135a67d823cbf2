namespace OpenSpe.Server.Identity;

/// <summary>The SPE's own claims in its tokens, beside the registered ones (<c>sub</c>, <c>amr</c>, <c>client_id</c>, <c>role</c>).</summary>
internal static class SpeClaims
{
    /// <summary>
    /// A digest of the account's security stamp when the token was issued. Password change, second-factor
    /// reset, disabling, role revocation and logout change the stamp, so every older token stops working.
    /// </summary>
    public const string Stamp = "spe_stamp";

    /// <summary>When the person signed in with their credentials (Unix seconds): refresh never extends a session past its absolute lifetime.</summary>
    public const string SessionStart = "spe_session_start";

    /// <summary>
    /// On a scoped token (an upload ticket): what it opens. A token with a scope is refused by every endpoint outside it
    /// (<see cref="SessionValidation"/>), whatever its roles.
    /// </summary>
    public const string Scope = "spe_scope";

    /// <summary>On a scoped token: the one project it opens.</summary>
    public const string ScopeProject = "spe_scope_project";

    /// <summary>
    /// On the principal of an external provider's token (never in a token the SPE issues): the subject the provider's token carried,
    /// beside <c>idp</c>, its issuer. A permit's external identity names only such a sign-in (see <c>ProjectAccessSource</c>).
    /// </summary>
    public const string ExternalSubject = "spe_ext_sub";

    /// <summary>On an application's token: the person who registered the application, for the audit log.</summary>
    public const string RegisteredBy = "spe_registered_by";
}
