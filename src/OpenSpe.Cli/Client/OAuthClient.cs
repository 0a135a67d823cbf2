using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Cli.Client;

/// <summary>A token endpoint answer.</summary>
internal sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string? AccessToken,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken,
    [property: JsonPropertyName("expires_in")] long? ExpiresIn,
    [property: JsonPropertyName("token_type")] string? TokenType)
{
    public override string ToString() => $"TokenResponse {{ ExpiresIn = {ExpiresIn}, TokenType = {TokenType} }}";
}

/// <summary>A device authorization answer (RFC 8628 section 3.2).</summary>
internal sealed record DeviceAuthorization(
    [property: JsonPropertyName("device_code")] string DeviceCode,
    [property: JsonPropertyName("user_code")] string UserCode,
    [property: JsonPropertyName("verification_uri")] string VerificationUri,
    [property: JsonPropertyName("verification_uri_complete")] string? VerificationUriComplete,
    [property: JsonPropertyName("expires_in")] long ExpiresIn,
    [property: JsonPropertyName("interval")] long? Interval);

/// <summary>An OAuth error answer (RFC 6749 section 5.2), e.g. <c>invalid_grant</c>.</summary>
internal sealed class OAuthException : SpeClientException
{
    public OAuthException()
    {
    }

    public OAuthException(string message)
        : base(message)
    {
    }

    public OAuthException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public OAuthException(string error, string? description, string message)
        : base(message)
    {
        Error = error;
        Description = description;
    }

    public string Error { get; } = "";

    public string? Description { get; }
}

/// <summary>The CLI's side of the SPE's OAuth 2.0 endpoints, as the public client <c>spe-cli</c>.</summary>
internal sealed class OAuthClient(ServerConnection connection, TimeProvider time)
{
    public const string ClientId = "spe-cli";
    public const string Scope = "openid offline_access";
    public const string DeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Direct sign-in with password and, when enrolled, a one-time or recovery code.</summary>
    public Task<TokenResponse> PasswordAsync(string username, string password, string? otp, string? recoveryCode, CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "password"),
            new("client_id", ClientId),
            new("username", username),
            new("password", password),
            new("scope", Scope),
        };
        if (otp is not null)
        {
            form.Add(new("otp", otp));
        }

        if (recoveryCode is not null)
        {
            form.Add(new("recovery_code", recoveryCode));
        }

        return TokenAsync(form, cancellationToken);
    }

    /// <summary>Exchanges a refresh token; the answer carries a new refresh token and the old one stops working.</summary>
    public Task<TokenResponse> RefreshAsync(string refreshToken, CancellationToken cancellationToken) => TokenAsync(
    [
        new("grant_type", "refresh_token"),
        new("client_id", ClientId),
        new("refresh_token", refreshToken),
    ], cancellationToken);

    /// <summary>Starts the device authorization grant.</summary>
    public async Task<DeviceAuthorization> StartDeviceAsync(CancellationToken cancellationToken)
    {
        using var response = await PostFormAsync("connect/device", [new("client_id", ClientId), new("scope", Scope)], cancellationToken);
        var answer = await ReadAsync<DeviceAuthorization>(response, "device authorization", cancellationToken);
        return answer is { DeviceCode.Length: > 0, UserCode.Length: > 0, VerificationUri.Length: > 0 }
            ? answer
            : throw new SpeClientException("the server's device authorization answer is incomplete");
    }

    /// <summary>Polls the token endpoint until the user approves, denies or the code expires (RFC 8628 section 3.4-3.5).</summary>
    public async Task<TokenResponse> PollDeviceAsync(DeviceAuthorization device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);

        // RFC 8628: 5 s when the server names no interval; slow_down adds 5 s for good.
        var interval = TimeSpan.FromSeconds(Math.Max(1, device.Interval ?? 5));
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(1, device.ExpiresIn));
        while (true)
        {
            await Task.Delay(interval, time, cancellationToken);
            try
            {
                return await TokenAsync(
                [
                    new("grant_type", DeviceCodeGrant),
                    new("device_code", device.DeviceCode),
                    new("client_id", ClientId),
                ], cancellationToken);
            }
            catch (OAuthException ex) when (ex.Error is "authorization_pending" or "slow_down")
            {
                if (ex.Error == "slow_down")
                {
                    interval += TimeSpan.FromSeconds(5);
                }

                if (time.GetUtcNow() >= deadline)
                {
                    throw new SpeClientException("the sign-in code expired before it was approved; run 'spe login --device' again", ex);
                }
            }
        }
    }

    /// <summary>Revokes a refresh token (RFC 7009).</summary>
    public async Task RevokeAsync(string token, string tokenTypeHint, CancellationToken cancellationToken)
    {
        using var response = await PostFormAsync("connect/revoke", [new("token", token), new("token_type_hint", tokenTypeHint), new("client_id", ClientId)], cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, "revocation", cancellationToken);
        }
    }

    private async Task<TokenResponse> TokenAsync(IEnumerable<KeyValuePair<string, string>> form, CancellationToken cancellationToken)
    {
        using var response = await PostFormAsync("connect/token", form, cancellationToken);
        var token = await ReadAsync<TokenResponse>(response, "sign-in", cancellationToken);
        if (token is not { AccessToken.Length: > 0 } || !string.Equals(token.TokenType, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new SpeClientException("the server's token answer is not a bearer token");
        }

        return token;
    }

    private async Task<HttpResponseMessage> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> form, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return await connection.SendAsync(request, cancellationToken);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, what, cancellationToken);
        }

        try
        {
            return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
                ?? throw new SpeClientException($"the server's {what} answer is empty");
        }
        catch (JsonException ex)
        {
            throw new SpeClientException($"the server's {what} answer is not the expected JSON", ex);
        }
    }

    private static async Task<SpeClientException> ErrorAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
            {
                var code = error.GetString()!;
                var description = document.RootElement.TryGetProperty("error_description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                var text = description is { Length: > 0 } ? $"{what} refused: {description} ({code})" : $"{what} refused ({code})";
                return new OAuthException(code, description, ProblemText.OneLine(text));
            }
        }
        catch (JsonException)
        {
            // Not an OAuth error body; fall through to the problem or status rendering.
        }

        return ProblemText.FromBody(body, response.StatusCode, response.ReasonPhrase);
    }
}
