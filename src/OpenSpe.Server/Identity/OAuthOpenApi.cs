using Microsoft.OpenApi;
using OpenSpe.Server.Api;

namespace OpenSpe.Server.Identity;

/// <summary>
/// Describes the OAuth 2.0 endpoints under <c>/connect/</c> in the OpenAPI document. OpenIddict answers most of them before
/// routing (device, revoke, introspect) and the routed ones decide from form fields, so no endpoint metadata describes
/// them: this does, with their form fields and answers. Protocol errors are OAuth error objects (RFC 6749 section 5.2), not
/// problem details; what the SPE's own middleware answers (429, 500, 503) is a problem as everywhere.
/// </summary>
internal static class OAuthOpenApi
{
    public const string Tag = "OAuth";

    private const string Form = "application/x-www-form-urlencoded";
    private const string ErrorSchema = "OAuthError";

    /// <summary>Adds the <c>/connect/*</c> paths, the OAuth tag and the OAuth error schema.</summary>
    public static void Describe(OpenApiDocument document)
    {
        document.Tags ??= new HashSet<OpenApiTag>();
        document.Tags.Add(new OpenApiTag { Name = Tag, Description = "OAuth 2.0 and OpenID Connect: tokens for people (password and one-time code, device, authorization code) and applications (client credentials)." });
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[ErrorSchema] = Object(
            [("error", Text("The OAuth error code, e.g. invalid_grant, invalid_client, invalid_request, authorization_pending, slow_down, expired_token.")),
             ("error_description", Text("A human sentence.")),
             ("error_uri", Text("A page about the error."))],
            "error");
        document.Paths ??= new OpenApiPaths();

        document.Paths["/connect/token"] = Path(HttpMethod.Post, Operation(document, "oauth.token", "Issues tokens.",
            "grant_type password: username, password and otp (or recovery_code) of a person with a second factor; refresh_token: rotates the refresh token, never past the session's absolute lifetime; client_credentials: an application's own token (client_id, client_secret); urn:ietf:params:oauth:grant-type:device_code and authorization_code: completes a device or browser sign-in.",
            FormBody(
                ("grant_type", Text("password, refresh_token, client_credentials, authorization_code or urn:ietf:params:oauth:grant-type:device_code."), true),
                ("client_id", Text("The client: spe-cli for the command line, or a registered application."), true),
                ("client_secret", Text("An application's secret (client_credentials)."), false),
                ("username", Text("password grant: the account name."), false),
                ("password", Text("password grant: the password."), false),
                ("otp", Text("password grant: the current TOTP code."), false),
                ("recovery_code", Text("password grant: a one-time recovery code instead of otp."), false),
                ("refresh_token", Text("refresh_token grant: the refresh token."), false),
                ("device_code", Text("device_code grant: the device code from /connect/device."), false),
                ("code", Text("authorization_code grant: the code from /connect/authorize."), false),
                ("redirect_uri", Text("authorization_code grant: the redirect URI of the authorization request."), false),
                ("code_verifier", Text("authorization_code grant: the PKCE verifier."), false),
                ("scope", Text("Space-separated scopes, e.g. openid offline_access."), false)),
            Json(200, "Tokens.", Object(
                [("access_token", Text("The bearer token for the API.")), ("token_type", Text("Bearer.")), ("expires_in", Number("Seconds the access token is valid.")),
                 ("refresh_token", Text("With offline_access: the refresh token (rotated on every use).")), ("id_token", Text("With openid: the ID token.")),
                 ("scope", Text("The scopes granted."))],
                "access_token", "token_type", "expires_in")),
            Error(document, 400, "The request or grant is invalid (invalid_request, invalid_grant, unsupported_grant_type; a refused sign-in; a device code still pending)."),
            Error(document, 401, "The client is not known or its secret is wrong (invalid_client).")));

        document.Paths["/connect/device"] = Path(HttpMethod.Post, Operation(document, "oauth.device", "Starts a device sign-in.",
            "The CLI shows the user code and the verification URL; the person approves it in a browser (/connect/verify), and the CLI polls /connect/token with the device code.",
            FormBody(("client_id", Text("The client, e.g. spe-cli."), true), ("scope", Text("Space-separated scopes."), false)),
            Json(200, "The device and user codes.", Object(
                [("device_code", Text("For polling /connect/token.")), ("user_code", Text("For the person to enter.")), ("verification_uri", Text("Where to enter it.")),
                 ("verification_uri_complete", Text("The same with the code filled in.")), ("expires_in", Number("Seconds the codes are valid.")), ("interval", Number("Seconds between polls."))],
                "device_code", "user_code", "verification_uri", "expires_in")),
            Error(document, 400, "The request is invalid (invalid_request, invalid_scope)."),
            Error(document, 401, "The client is not known (invalid_client).")));

        document.Paths["/connect/revoke"] = Path(HttpMethod.Post, Operation(document, "oauth.revoke", "Revokes a refresh or access token (RFC 7009).",
            "Sign-out: the CLI revokes its refresh token.",
            FormBody(("token", Text("The token to revoke."), true), ("token_type_hint", Text("refresh_token or access_token."), false),
                ("client_id", Text("The client the token was issued to."), true), ("client_secret", Text("An application's secret."), false)),
            Empty(200, "Revoked (or already unknown)."),
            Error(document, 400, "The request is invalid (invalid_request, unsupported_token_type)."),
            Error(document, 401, "The client is not known or its secret is wrong (invalid_client).")));

        document.Paths["/connect/introspect"] = Path(HttpMethod.Post, Operation(document, "oauth.introspect", "Introspects a token (RFC 7662), for a registered application.",
            "Answers active: false for a token that is expired, revoked, not for this client or unknown.",
            FormBody(("token", Text("The token."), true), ("token_type_hint", Text("access_token or refresh_token."), false),
                ("client_id", Text("The application asking."), true), ("client_secret", Text("Its secret."), true)),
            Json(200, "Whether the token is active, and its claims when it is.", Object(
                [("active", new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "Whether the token is in force." }), ("sub", Text("The subject.")),
                 ("client_id", Text("The client it was issued to.")), ("scope", Text("Its scopes.")), ("exp", Number("Expiry (Unix seconds).")), ("iat", Number("Issued at (Unix seconds)."))],
                "active")),
            Error(document, 400, "The request is invalid (invalid_request)."),
            Error(document, 401, "The client is not known or its secret is wrong (invalid_client).")));

        var authorizeQuery = "response_type=code, client_id, redirect_uri, scope, state, code_challenge and code_challenge_method=S256 (PKCE)";
        var authorize = new OpenApiPathItem();
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post })
        {
            authorize.AddOperation(method, Operation(document, method == HttpMethod.Get ? "oauth.authorize" : "oauth.authorize.form", "Authorization code flow (browser).",
                $"Parameters ({authorizeQuery}) in the query (GET) or the form (POST). Without a session the browser is sent to /account/login first; with one, back to redirect_uri with a code.",
                null,
                Redirect("To the sign-in page, or to redirect_uri with the code or an OAuth error (access_denied when the account may not sign in)."),
                PlainError(400, "A request that cannot be sent back to its client (unknown client or redirect_uri): the OAuth error as text.")));
        }

        document.Paths["/connect/authorize"] = authorize;
        var verify = new OpenApiPathItem();
        verify.AddOperation(HttpMethod.Get, Operation(document, "oauth.verify", "The device approval page.",
            "Shows the user code to approve (user_code in the query); without a session the browser is sent to /account/login first.",
            null, Page(200, "The approval form."), Redirect("To the sign-in page.")));
        verify.AddOperation(HttpMethod.Post, Operation(document, "oauth.verify.submit", "Approves a device sign-in.",
            "Form fields: user_code and the antiforgery token of the approval form. On success the browser goes to /account/approved.",
            FormBody(("user_code", Text("The code the device shows."), true), ("__RequestVerificationToken", Text("The form's antiforgery token."), true)),
            Redirect("To /account/approved, or to the sign-in page."),
            Page(400, "The code is not valid or has expired (an HTML page), or the antiforgery token is missing (a problem).")));
        document.Paths["/connect/verify"] = verify;
    }

    private static OpenApiPathItem Path(HttpMethod method, OpenApiOperation operation)
    {
        var item = new OpenApiPathItem();
        item.AddOperation(method, operation);
        return item;
    }

    private static OpenApiOperation Operation(OpenApiDocument document, string id, string summary, string description, OpenApiRequestBody? body,
        params (string Status, OpenApiResponse Response)[] responses)
    {
        var operation = new OpenApiOperation
        {
            OperationId = id,
            Summary = summary,
            Description = description,
            Tags = new HashSet<OpenApiTagReference> { new(Tag, document, null) },
            RequestBody = body,
            Responses = new OpenApiResponses(),
        };
        foreach (var (status, response) in responses)
        {
            operation.Responses[status] = response;
        }

        // Note: the SPE's own middleware answers these on every path, as problems (rate limit, unexpected error, audit log unavailable).
        foreach (var status in ProblemResponses.Common)
        {
            operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = "A problem (RFC 9457).",
                Content = new Dictionary<string, OpenApiMediaType> { [ProblemResponses.ContentType] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", document, null) } },
            };
        }

        return operation;
    }

    private static OpenApiRequestBody FormBody(params (string Name, OpenApiSchema Schema, bool Required)[] fields) => new()
    {
        Required = true,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            [Form] = new() { Schema = Object(fields.Select(f => (f.Name, f.Schema)), fields.Where(f => f.Required).Select(f => f.Name).ToArray()) },
        },
    };

    private static (string, OpenApiResponse) Json(int status, string description, OpenApiSchema schema) =>
        (Code(status), new OpenApiResponse { Description = description, Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } } });

    private static (string, OpenApiResponse) Empty(int status, string description) => (Code(status), new OpenApiResponse { Description = description });

    private static (string, OpenApiResponse) Redirect(string description) => ("302", new OpenApiResponse { Description = description });

    private static (string, OpenApiResponse) Page(int status, string description) =>
        (Code(status), new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["text/html"] = new() { Schema = Text("An HTML page.") } },
        });

    private static (string, OpenApiResponse) PlainError(int status, string description) =>
        (Code(status), new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["text/plain"] = new() { Schema = Text("error, error_description and error_uri, one per line.") } },
        });

    private static (string, OpenApiResponse) Error(OpenApiDocument document, int status, string description) =>
        (Code(status), new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = new OpenApiSchemaReference(ErrorSchema, document, null) } },
        });

    private static string Code(int status) => status.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static OpenApiSchema Text(string description) => new() { Type = JsonSchemaType.String, Description = description };

    private static OpenApiSchema Number(string description) => new() { Type = JsonSchemaType.Integer, Description = description };

    private static OpenApiSchema Object(IEnumerable<(string Name, OpenApiSchema Schema)> properties, params string[] required) => new()
    {
        Type = JsonSchemaType.Object,
        Properties = properties.ToDictionary(p => p.Name, p => (IOpenApiSchema)p.Schema, StringComparer.Ordinal),
        Required = new HashSet<string>(required, StringComparer.Ordinal),
    };
}
